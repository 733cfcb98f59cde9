"""The paper registry: what each paper series brings to the house.

A paper declares, in plain names, the methods it trains (and the module that
registers each), its shipped weights (file stem -> method), the editors of its
editable methods, its chapters and where its table protocols live. Everything
else asks here: the CLI's choice lists (``gamut train``, ``gamut edit``,
``gamut evaluate``, ``gamut bench edit``), the GPU scripts' name -> method
maps (``python -m gamutlib.papers method-of NAME``), ``get_method`` and the
tests. Declarations are strings, so importing this module stays cheap (the
CLI builds its choices from it at start-up); the modules are imported when a
method, an editor or a table is asked for.

Adding a paper: one ``Paper(...)`` below (or ``register_paper`` from a test or
a plug-in), plus its own folders (models, evaluation module, notebooks).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Paper:
    """One paper series of the study."""

    name: str  # notebooks/<NN_>name/ and book/results/<name>/
    title: str
    #: method name -> the module whose import registers it (gamutlib.contract.register_method)
    methods: Mapping[str, str] = field(default_factory=dict)
    #: shipped file stem (weights/<stem>.safetensors) -> method name
    weights: Mapping[str, str] = field(default_factory=dict)
    #: editable method -> "module:Editor" (the editor declares its controls)
    editors: Mapping[str, str] = field(default_factory=dict)
    #: notebook sources, in reading order
    chapters: tuple[str, ...] = ()
    #: "module:attribute" naming a sequence of TableProtocol (gamutlib.evaluation.protocol), or the sequence itself
    tables: str | Sequence[Any] = ()
    #: "module:function" (or the function) opening an evaluation run: f(profile, weights_dir, device, allow_fallback)
    evaluation: str | Callable[..., Any] | None = None


def _load(ref: str | Any) -> Any:
    """``"module:attribute"`` -> the attribute; anything else is returned as is."""
    if not isinstance(ref, str):
        return ref
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


_PAPERS: dict[str, Paper] = {}


def register_paper(paper: Paper) -> Paper:
    """Add ``paper`` (its name unique; a method or weights name belongs to one paper)."""
    if paper.name in _PAPERS and _PAPERS[paper.name] != paper:
        raise ValueError(f"paper {paper.name!r} is already registered")
    for other in _PAPERS.values():
        if other.name == paper.name:
            continue
        clash = sorted((set(other.methods) & set(paper.methods)) | (set(other.weights) & set(paper.weights)))
        if clash:
            raise ValueError(f"paper {paper.name!r} declares {clash}, already declared by {other.name!r}")
    unknown = sorted(set(paper.weights.values()) - set(paper.methods))
    if unknown:
        raise ValueError(f"paper {paper.name!r}: weights of undeclared methods {unknown}")
    _PAPERS[paper.name] = paper
    return paper


def unregister_paper(name: str) -> None:
    """Remove a paper (tests register toy papers and take them away again)."""
    _PAPERS.pop(name, None)


def papers() -> list[Paper]:
    return list(_PAPERS.values())


def get_paper(name: str) -> Paper:
    try:
        return _PAPERS[name]
    except KeyError:
        raise ValueError(f"unknown paper {name!r}; papers: {', '.join(_PAPERS)}") from None


# ----------------------------------------------------------------- what the CLI and scripts ask


def method_names() -> list[str]:
    """Every declared method, sorted."""
    return sorted(m for p in _PAPERS.values() for m in p.methods)


def weight_names(paper: str | None = None) -> list[str]:
    """Shipped weight names (of one paper, or of all), in declaration order."""
    chosen = [get_paper(paper)] if paper else list(_PAPERS.values())
    return [w for p in chosen for w in p.weights]


def record_only(paper: str | None = None) -> list[str]:
    """Weight names (of one paper, or of all) that the GPU record measures but the
    repository does not ship: the ``RECORD_ONLY`` of each paper's tables module.
    Results, not shipped files: scripts/gpu/record_series.sh lays them into
    weights/ for a gpu record and keeps them out of the tracked tree."""
    chosen = [get_paper(paper)] if paper else list(_PAPERS.values())
    return [w for p in chosen if isinstance(p.tables, str) and p.tables
            for w in getattr(importlib.import_module(p.tables.partition(":")[0]), "RECORD_ONLY", ())]


def method_of(weights: str) -> str:
    """The method a shipped weights name holds ("ganmut_rho1" -> "ganmut")."""
    for paper in _PAPERS.values():
        if weights in paper.weights:
            return paper.weights[weights]
    if weights in method_names():
        return weights
    raise ValueError(f"unknown weights name {weights!r}; known: {', '.join(weight_names())}")


def paper_of_method(method: str) -> Paper:
    """The paper that declares ``method``."""
    for paper in _PAPERS.values():
        if method in paper.methods:
            return paper
    raise ValueError(f"no paper declares method {method!r}; methods: {', '.join(method_names())}")


def editable_methods() -> list[str]:
    return [m for p in _PAPERS.values() for m in p.editors]


def editor_class(method: str) -> Any:
    for paper in _PAPERS.values():
        if method in paper.editors:
            return _load(paper.editors[method])
    raise ValueError(f"{method!r} has no editor; editable methods: {', '.join(editable_methods())}")


def evaluated_papers() -> list[str]:
    return [p.name for p in _PAPERS.values() if p.tables]


def table_protocols(paper: str) -> list[Any]:
    return list(_load(get_paper(paper).tables))


def open_evaluation(paper: str, profile: str, **options: Any) -> Any:
    """The paper's evaluation run (models, judge, test faces) for ``profile``."""
    opener = get_paper(paper).evaluation
    if opener is None:
        raise ValueError(f"paper {paper!r} declares no evaluation")
    return _load(opener)(profile, **options)


def _import_method_module(name: str) -> None:
    for paper in _PAPERS.values():
        if name in paper.methods:
            importlib.import_module(paper.methods[name])


def available_methods() -> list[str]:
    """Every method that can be built: the declared ones (imported now) and any registered directly."""
    from gamutlib.contract.registry import registered_methods

    for name in method_names():
        _import_method_module(name)
    return registered_methods()


def get_method(name: str, config: dict[str, Any] | None = None) -> Any:
    """Build method ``name``: imports the module its paper says registers it, then builds it."""
    from gamutlib.contract.registry import build_method, registered_methods

    if name not in registered_methods():
        _import_method_module(name)
    if name not in registered_methods():
        available_methods()  # so that the error lists every method
    return build_method(name, config)


# ----------------------------------------------------------------- the study's papers

register_paper(Paper(
    name="judges",
    title="The judges: emotion, action units, identity",
    methods={"judge_emotion": "gamutlib.judges.emotion", "judge_au": "gamutlib.judges.au",
             "judge_identity": "gamutlib.judges.identity"},
    weights={"judge_emotion": "judge_emotion", "judge_au": "judge_au", "judge_identity": "judge_identity"},
    chapters=("notebooks/00_judges/01_judges.py",),
))
register_paper(Paper(
    name="ganmut",
    title="GANmut: learning interpretable conditional space for gamut of emotions (CVPR 2021)",
    methods={"stargan": "gamutlib.models.stargan", "ganimation": "gamutlib.models.ganimation",
             "ganmut": "gamutlib.models.ganmut", "gganmut": "gamutlib.models.gganmut"},
    weights={"stargan": "stargan", "ganimation": "ganimation", "ganmut": "ganmut", "ganmut_rho1": "ganmut",
             "gganmut": "gganmut"},
    editors={"ganmut": "gamutlib.models.ganmut:GANmutEditor", "gganmut": "gamutlib.models.gganmut:GGANmutEditor"},
    chapters=("notebooks/ganmut/01_model.py", "notebooks/ganmut/02_training.py", "notebooks/ganmut/03_evaluation.py"),
    tables="gamutlib.evaluation.ganmut_tables:TABLES",
    evaluation="gamutlib.evaluation.ganmut_tables:open_run",
))
register_paper(Paper(
    name="finegrained",
    title="Toward fine-grained facial expression manipulation (ECCV 2020)",
    methods={"finegrained": "gamutlib.models.finegrained", "ganimation_au": "gamutlib.models.ganimation_au"},
    # one file per training config of gamutlib/models/configs (the ablations are separate generators)
    weights={"ganimation_au": "ganimation_au", "ganimation_au__relative": "ganimation_au",
             "finegrained__kmsf0": "finegrained", "finegrained__kmsf1": "finegrained",
             "finegrained__kmsf2": "finegrained", "finegrained": "finegrained", "finegrained__absolute": "finegrained"},
    editors={"finegrained": "gamutlib.models.finegrained:FineGrainedEditor"},
    chapters=("notebooks/finegrained/01_model.py", "notebooks/finegrained/02_training.py",
              "notebooks/finegrained/03_evaluation.py"),
    tables="gamutlib.evaluation.finegrained_tables:TABLES",
    evaluation="gamutlib.evaluation.finegrained_tables:open_run",
))

register_paper(Paper(
    name="portraitgan",
    title="PortraitGAN for simultaneous emotion and modality manipulation (Duan et al. 2018)",
    methods={"portraitgan": "gamutlib.models.portraitgan", "cyclegan": "gamutlib.models.cyclegan",
             "stargan_modality": "gamutlib.models.stargan_modality"},
    # seed 0 of each is exported; PortraitGAN's ships, the baselines' are results (portraitgan_tables.RECORD_ONLY);
    # an ablation is scored from its run's export (named after its method)
    weights={"portraitgan": "portraitgan", "cyclegan": "cyclegan", "stargan_modality": "stargan_modality",
             "portraitgan__no_texture": "portraitgan", "portraitgan__single_level": "portraitgan",
             "portraitgan__no_backward": "portraitgan"},
    editors={"portraitgan": "gamutlib.models.portraitgan_editor:PortraitGANEditor"},
    chapters=("notebooks/portraitgan/01_model.py", "notebooks/portraitgan/02_training.py",
              "notebooks/portraitgan/03_evaluation.py"),
    tables="gamutlib.evaluation.portraitgan_tables:TABLES",
    evaluation="gamutlib.evaluation.portraitgan_tables:open_run",
))

# The EGGAN series. Its StarGAN baseline on the 7 emotion classes is the GANmut
# series' `stargan` method and its shipped `stargan` weights: a method belongs
# to one paper, so it is not declared again here; the evaluation loads it by
# weights name. `feature_net` trains the perceptual loss's features (never a
# scoring judge; a training-time network, kept with the record rather than shipped:
# eggan_tables.RECORD_ONLY). Its weights names are what scripts/gpu/train_eggan.sh exports.
register_paper(Paper(
    name="eggan",
    title="EGGAN: fine-grained expression manipulation via structured latent space (ICASSP 2021)",
    methods={"eggan": "gamutlib.models.eggan", "hgan": "gamutlib.models.hgan",
             "feature_net": "gamutlib.models.feature_net"},
    weights={"eggan": "eggan", "hgan": "hgan"},
    editors={"eggan": "gamutlib.models.eggan:EGGANEditor"},
    chapters=("notebooks/eggan/01_model.py", "notebooks/eggan/02_training.py", "notebooks/eggan/03_evaluation.py"),
    tables="gamutlib.evaluation.eggan_tables:TABLES",
    evaluation="gamutlib.evaluation.eggan_tables:open_run",
))


# The synthesis: no method of its own; one table of every method above, read from the
# series' records (gamutlib.evaluation.synthesis), and the claims of every series.
register_paper(Paper(
    name="synthesis",
    title="Every method on one benchmark: one table, one set of judges",
    chapters=("notebooks/synthesis/01_all_methods.py",),
))

def _main(argv: Sequence[str]) -> int:
    """``python -m gamutlib.papers method-of NAME`` (the GPU scripts' name -> method map),
    ``weights PAPER`` (its weight names), ``record-only PAPER`` (those it does not ship)."""
    if len(argv) == 2 and argv[0] == "method-of":
        try:
            print(method_of(argv[1]))
        except ValueError as err:
            print(err, file=sys.stderr)
            return 2
        return 0
    if len(argv) == 2 and argv[0] in ("weights", "record-only"):
        print(" ".join((weight_names if argv[0] == "weights" else record_only)(argv[1])))
        return 0
    print("usage: python -m gamutlib.papers method-of NAME | weights PAPER | record-only PAPER", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
