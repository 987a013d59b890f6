"""The spaCy/scispaCy pipeline, configured in one place.

A trained scispaCy model is used when one is installed; otherwise a blank English pipeline
with scispaCy's tokenizer. Then: pysbd sentences (pecrs_sentences), AbbreviationDetector, lexicon concepts
(SpanRuler), concepts for abbreviations defined in the text and for a bare "exchange", quantities with units,
medspaCy's ConText, and patient segmentation (pecrs_patients).
"""

from __future__ import annotations

import logging
import warnings
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from extractors import components  # noqa: F401  (registers the pecrs factories)
from extractors.components import DOCUMENT, SENTENCE_STARTS
from extractors.lexicon import lexicon_patterns
from extractors.trained_model import trained_model_name
from pipeline.document.model import Document

log = logging.getLogger(__name__)
# scispaCy's AbbreviationDetector matches with an empty global matcher on every document; spaCy warns each time.
warnings.filterwarnings("ignore", message=r".*\[W036\].*")

CONCEPTS = "concepts"
QUANTITIES = "quantities"

# ConText rules: medspaCy's defaults plus what case reports say about treatments, as data in medspaCy's own format.
# Its TERMINATE rules carry "max_scope": 1: medspaCy (1.3) cuts a cue's scope at a terminator only when their scopes
# overlap by its tuple_overlaps, which misses a cue's scope lying wholly inside a terminator's wider one.
CONTEXT_RULES = Path(__file__).resolve().parent / "resources" / "context_rules.json"
# NegEx-style window: a cue governs at most this many tokens ("could not be reduced, TPE was performed")
CONTEXT_MAX_SCOPE = 8


def _base_pipeline() -> Language:
    name = trained_model_name()
    if name:
        try:
            nlp = spacy.load(name, exclude=["ner"])
            log.info("using trained model %s", name)
            return nlp
        except Exception as exc:  # a placeholder package or a broken install is not a model
            log.warning("installed %s could not be loaded (%s); using the blank pipeline", name, exc)
    from scispacy.custom_tokenizer import combined_rule_tokenizer

    nlp = spacy.blank("en")
    nlp.tokenizer = combined_rule_tokenizer(nlp)
    return nlp


@lru_cache(maxsize=1)
def build_nlp() -> Language:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nlp = _base_pipeline()
        # pysbd sentences, block by block, the same as the document model's (scispaCy's pysbd_sentencizer
        # re-aligns pysbd's spans to tokens and splits "on day 3. She ..." after "day")
        nlp.add_pipe("pecrs_sentences", first=True)
        from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)

        nlp.add_pipe("abbreviation_detector")
        ruler = nlp.add_pipe("span_ruler", name="pecrs_concepts",
                             config={"spans_key": CONCEPTS, "phrase_matcher_attr": "LOWER", "overwrite": False})
        ruler.add_patterns(lexicon_patterns(nlp))
        nlp.add_pipe("pecrs_abbreviation_concepts", config={"spans_key": CONCEPTS})
        nlp.add_pipe("pecrs_exchange_coreference", config={"spans_key": CONCEPTS})
        nlp.add_pipe("pecrs_prune_concepts", config={"spans_key": CONCEPTS})
        nlp.add_pipe("pecrs_quantities", config={"spans_key": QUANTITIES})
        from medspacy.context import ConText

        nlp.add_pipe("medspacy_context", config={"input_span_type": "group", "span_group_name": CONCEPTS,
                                                 "rules": "default", "max_scope": CONTEXT_MAX_SCOPE})
        context = nlp.get_pipe("medspacy_context")
        from medspacy.context import ConTextRule

        context.add(ConTextRule.from_json(CONTEXT_RULES))
        assert isinstance(context, ConText)
        nlp.add_pipe("pecrs_patients")
    return nlp


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
