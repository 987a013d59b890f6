"""The functions extractors/config.cfg names through spaCy's registry: the tokenizer and the [initialize] step that
loads the resource files into the components."""

from __future__ import annotations

import re
from typing import Callable

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import registry

from extractors.lexicon import lexicon_patterns


# a slash between two words, each a word of its own: "FFP/albumin", "ferritin/CRP"; not a unit ("pg/mL", "mmol/L",
# "cells/µL"), whose parts are shorter
WORDS_SLASHED = r"(?<=[A-Za-z]{3})/(?=[A-Za-z]{3})"


@registry.tokenizers("pecrs.scispacy_tokenizer.v1")
def create_scispacy_tokenizer() -> Callable[[Language], Tokenizer]:
    """scispaCy's combined_rule_tokenizer. scispaCy registers it only inside its training code, as a callback that
    replaces the tokenizer of a pipeline already made ("replace_tokenizer"), not as a tokenizer a config can name."""
    from scispacy.custom_tokenizer import combined_rule_tokenizer

    create_default_tokenizer = registry.tokenizers.get("spacy.Tokenizer.v1")()

    def create_tokenizer(nlp: Language) -> Tokenizer:
        # scispaCy builds on the pipeline's tokenizer as it stands (its token_match), so spaCy's default comes first
        nlp.tokenizer = create_default_tokenizer(nlp)
        tokenizer = combined_rule_tokenizer(nlp)
        infixes = tokenizer.infix_finditer.__self__.pattern
        tokenizer.infix_finditer = re.compile(f"{infixes}|{WORDS_SLASHED}").finditer
        return tokenizer

    return create_tokenizer


@registry.callbacks("pecrs.load_resources.v1")
def create_resource_loader(lexicon_ruler: str, context: str, context_rules: str) -> Callable[[Language], None]:
    """After the components are initialized: the lexicons as the span ruler's patterns (tokenized by the pipeline
    itself, hence here rather than as the ruler's own initialize patterns) and the ConText rules file's rules."""

    def load_resources(nlp: Language) -> None:
        from medspacy.context import ConTextRule

        nlp.get_pipe(lexicon_ruler).add_patterns(lexicon_patterns(nlp))
        nlp.get_pipe(context).add(ConTextRule.from_json(context_rules))

    return load_resources
