"""Names shared by every part of gamut (the contracts in the README's "Architecture")."""

# The 17 OpenFace intensity AUs, in OpenFace's column order.
AU_IDS = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)
AU_NAMES = tuple(f"AU{i:02d}" for i in AU_IDS)
AU_MAX = 5.0  # OpenFace intensity scale is 0..5
#: Other spellings of an AU's name, lower-cased (``au6`` and ``au06`` both name
#: ``AU06``): what the editors' ``KEY=VALUE`` flags accept.
AU_ALIASES = {**{f"au{i}": name for i, name in zip(AU_IDS, AU_NAMES)}, **{name.lower(): name for name in AU_NAMES}}


# The 7 classes GANmut trains on (AffectNet's 8 minus contempt), in its order.
EMOTIONS = ("neutral", "happy", "sad", "surprised", "fearful", "disgusted", "angry")

# Modalities the renderer draws the same face in.
STYLES = ("photo", "sketch", "cartoon")

N_LANDMARKS = 68  # iBUG 300-W layout
