from gamutlib.data.images import image_from_array, image_to_uint8, read_image, read_image_crop, save_image
from gamutlib.data.landmark_map import landmark_boundary_map
from gamutlib.data.affectnet import AffectNetDataset
from gamutlib.data.rafd import RaFDDataset
from gamutlib.data.openface import OpenFaceDataset
from gamutlib.data.align import AlignedFace, align_face, align_from_landmarks, canonical_eyes, paste_back
from gamutlib.data.stream import FaceStream, FaceTestSet, PairStream
from gamutlib.data.pairs import expression_pairs, landmark_modality_pairs, modality_pairs
