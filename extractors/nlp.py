"""The spaCy/scispaCy pipeline, built from extractors/config.cfg (its components, their settings, the tokenizer and
the step that loads the resource files are all there).

Without a trained scispaCy model the cfg is the whole pipeline: a blank English pipeline with scispaCy's tokenizer,
made by spaCy from the cfg and initialized. When one is installed (extractors/trained_model.py tells), the model is
the base and the cfg's components are added to it. Either way ``nlp.config`` shows the pipeline.
"""

from __future__ import annotations

import logging
import warnings
from functools import lru_cache
from pathlib import Path

import spacy
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.ty import InitializableComponent
from spacy.util import registry
from thinc.api import Config

from extractors import components, config_functions  # noqa: F401  (register the factories and functions the cfg names)
from extractors.components import DOCUMENT, SENTENCE_STARTS
from extractors.lexicon import RESOURCES
from extractors.trained_model import trained_model_name
from pipeline.document.model import Document

log = logging.getLogger(__name__)
# scispaCy's AbbreviationDetector matches with an empty global matcher on every document; spaCy warns each time.
warnings.filterwarnings("ignore", message=r".*\[W036\].*")

CONFIG = Path(__file__).resolve().parent / "config.cfg"


def load_pipeline_config(path: Path = CONFIG) -> Config:
    """The cfg at ``path``, its ``paths.resources`` set to the resource files' folder (uninterpolated, as spaCy
    keeps a config)."""
    return util.load_config(path, overrides={"paths.resources": str(RESOURCES)}, interpolate=False)


def _trained_model() -> Language | None:
    name = trained_model_name()
    if not name:
        return None
    try:
        nlp = spacy.load(name, exclude=["ner"])
    except Exception as exc:  # a placeholder package or a broken install is not a model
        log.warning("installed %s could not be loaded (%s); using the blank pipeline", name, exc)
        return None
    log.info("using trained model %s", name)
    return nlp


def _sets_sentence_starts(factory: str) -> bool:
    return "token.is_sent_start" in Language.get_factory_meta(factory).assigns


def _add_to_trained_model(nlp: Language, config: Config) -> Language:
    """The cfg's components added to a trained model. Those that set sentence starts go before the model's own
    components (its parser keeps the boundaries they set), the others after them. They are initialized as the cfg's
    [initialize] says, but component by component: ``nlp.initialize()`` would reset the model's trained weights."""
    model_components = list(nlp.pipe_names)
    settings = config.interpolate()
    for name in config["nlp"]["pipeline"]:
        component_config = dict(settings["components"][name])
        factory = component_config.pop("factory")
        place = {"before": model_components[0]} if model_components and _sets_sentence_starts(factory) else {}
        nlp.add_pipe(factory, name=name, config=component_config, **place)
    initialize = settings["initialize"]
    component_settings = registry.resolve(initialize.get("components", {}))
    for name in config["nlp"]["pipeline"]:
        component = nlp.get_pipe(name)
        if isinstance(component, InitializableComponent):
            component.initialize(lambda: [], nlp=nlp, **component_settings.get(name, {}))
    after_init = registry.resolve({"after_init": initialize.get("after_init")})["after_init"]
    if after_init is not None:
        after_init(nlp)
    nlp.config = nlp.config.merge(Config({"paths": config["paths"], "initialize": config["initialize"]}))
    return nlp


def build_pipeline(config: Config) -> Language:
    """The pipeline the cfg describes, on a trained model when one is installed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        # the factories of scispaCy's and medspaCy's components are registered when their modules are imported
        import medspacy.context  # noqa: F401
        import scispacy.abbreviation  # noqa: F401

        model = _trained_model()
        if model is not None:
            return _add_to_trained_model(model, config)
        nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
        nlp.initialize()
        return nlp


@lru_cache(maxsize=1)
def build_nlp() -> Language:
    return build_pipeline(load_pipeline_config())


def process(document: Document) -> Doc:
    """Run the pipeline on a parsed document, reusing its sentence boundaries."""
    nlp = build_nlp()
    doc = nlp.make_doc(document.text)
    doc.user_data[SENTENCE_STARTS] = {sentence.start for sentence in document.sentences}
    doc.user_data[DOCUMENT] = document
    return nlp(doc)


def pipeline_description() -> str:
    nlp = build_nlp()
    model = trained_model_name() or "blank en + scispaCy tokenizer"
    return f"{model}; components: {', '.join(nlp.pipe_names)}"
