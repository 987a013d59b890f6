"""Small registered spaCy components, one job each; their settings are in extractors/config.cfg."""


import re

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from extractors.lexicon import concept_of
from extractors.quantities import find_quantities, writes_decimal_comma
from pipeline.document.sentences import split_sentences

# "DEX, dexamethasone; MP, methylprednisolone (1 g/day)" or "TPE = therapeutic plasma exchange" (table footnotes)
GLOSSARY_ENTRY = re.compile(r"""
    (?:^|[;.]\s*|\n)                          # the start of an entry
    ([A-Z][A-Za-z0-9\-]{1,9})\s*(?:,|:|=)\s*  # the short form: "DEX," "TPE ="
    ([a-zA-Z][a-zA-Z\-\ ]{3,60}?)             # the long form: "therapeutic plasma exchange"
    (?=\s*(?:\([^()]{0,60}\)\s*)?(?:;|\.|$|\n))  # up to the entry's end, or a note: "MP, methylprednisolone (1 g/day)."
    """, re.VERBOSE)


def _long_form_concept(doc: Doc, spans_key: str, start: int, end: int, text: str) -> Span | None:
    for span in doc.spans[spans_key]:
        if span.start_char <= start and span.end_char >= end - 1 and span.label_:
            return span
    found = concept_of(text)
    if found:
        return Span(doc, 0, 1, label=found[0], span_id=found[1])
    return None


# what else "PE" abbreviates in a clinical text
OTHER_PE_MEANINGS = re.compile(r"pulmonary\s+embol|pleural\s+effusion|physical\s+exam|pre-?eclampsia|phenylephrine",
                               re.IGNORECASE)


def _bare_pe_is_the_exchange(doc: Doc, spans_key: str) -> bool:
    """A document that names plasma exchange in full and writes "PE" without defining it ("managed with therapeutic
    PE", "three PE sessions") means the exchange, unless it speaks of another thing "PE" stands for."""
    return any(span.label_ == "PE" for span in doc.spans[spans_key]) and not OTHER_PE_MEANINGS.search(doc.text)


@Language.factory("pecrs_abbreviation_concepts")
def make_abbreviation_concepts(nlp: Language, name: str, spans_key: str):
    def abbreviation_concepts(doc: Doc) -> Doc:
        """Every use of a defined short form ("TPE", "PE", "TCZ") gets its long form's concept."""
        definitions: dict[str, tuple[str, str]] = {}
        for short in getattr(doc._, "abbreviations", []):
            long_form = short._.long_form
            concept = _long_form_concept(doc, spans_key, long_form.start_char, long_form.end_char, long_form.text)
            if concept is not None:
                definitions[short.text] = (concept.label_, concept.id_)
        for match in GLOSSARY_ENTRY.finditer(doc.text):
            short, long_text = match.group(1), match.group(2).strip()
            found = concept_of(long_text)
            if found and short not in definitions:
                definitions[short] = found
        if _bare_pe_is_the_exchange(doc, spans_key):
            definitions.setdefault("PE", ("PE", "pe"))
        if not definitions:
            return doc
        covered = {(s.start, s.end) for s in doc.spans[spans_key]}
        added = []
        for token in doc:
            if token.text in definitions and (token.i, token.i + 1) not in covered:
                label, concept_id = definitions[token.text]
                added.append(Span(doc, token.i, token.i + 1, label=label, span_id=concept_id))
        doc.spans[spans_key] = list(doc.spans[spans_key]) + added
        return doc

    return abbreviation_concepts


@Language.factory("pecrs_prune_concepts")
def make_prune_concepts(nlp: Language, name: str, spans_key: str):
    def prune_concepts(doc: Doc) -> Doc:
        """Keep the longest of overlapping concept spans ("B-cell acute lymphoblastic leukemia" over "ALL")."""
        doc.spans[spans_key] = sorted(filter_spans(doc.spans[spans_key]), key=lambda s: s.start)
        doc._.concepts_key = spans_key
        return doc

    return prune_concepts


# Doc.user_data key: sentence start offsets already known (the document model's), so pysbd runs once per text
SENTENCE_STARTS = ("pecrs", "sentence_starts")


@Language.component("pecrs_sentences", assigns=["token.is_sent_start"])
def pecrs_sentences(doc: Doc) -> Doc:
    """Sentence boundaries: the document model's when the caller put them in ``doc.user_data``, else pysbd
    block by block (blocks are separated by blank lines) as pipeline.document.sentences makes them."""
    starts = doc.user_data.get(SENTENCE_STARTS)
    if starts is None:
        starts = {start for block in re.finditer(r"\S(?:.|\n(?!\s*\n))*", doc.text)
                  for start, _ in split_sentences(doc.text, block.start(), block.end())}
    for token in doc:
        token.is_sent_start = token.i == 0 or token.idx in starts or (
            not token.is_space and token.nbor(-1).is_space and "\n\n" in token.nbor(-1).text)
    return doc


# "A first exchange was carried out on day +3": once the article has named plasma exchange, a bare
# "exchange" is that procedure, unless it is another kind ("gas exchange", "red cell exchange").
OTHER_EXCHANGES = re.compile(r"""
    (gas|red[-\ ]cell|rbc|erythrocyte|blood|whole[-\ ]blood  # "gas exchange", "red cell exchange"
    |ion|cation|anion|air|heat|information                   # "ion exchange", "information exchange"
    )\s*$""", re.IGNORECASE | re.VERBOSE)


@Language.factory("pecrs_exchange_coreference")
def make_exchange_coreference(nlp: Language, name: str, spans_key: str):
    def exchange_coreference(doc: Doc) -> Doc:
        spans = list(doc.spans[spans_key])
        if not any(s.label_ == "PE" for s in spans):
            return doc
        covered = {t.i for s in spans for t in s}
        added = [Span(doc, t.i, t.i + 1, label="PE", span_id="pe") for t in doc
                 if t.lower_ in ("exchange", "exchanges") and t.i not in covered
                 and not (t.i > 0 and doc[t.i - 1].lower_ == "to")  # "the decision to exchange": a verb
                 and not OTHER_EXCHANGES.search(doc.text[max(0, t.idx - 20):t.idx])]
        doc.spans[spans_key] = spans + added
        return doc

    return exchange_coreference


if not Span.has_extension("quantity"):
    Span.set_extension("quantity", default=None)
# the span groups the pipeline wrote its concepts and quantities into: config.cfg names them, the components that
# write them say so on the Doc, and readers downstream follow the Doc rather than spell the names again
for _name in ("concepts_key", "quantities_key"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)
if not Doc.has_extension("decimal_comma"):  # the document writes "5,1 mg/dL" and groups thousands with a dot
    Doc.set_extension("decimal_comma", default=False)


@Language.factory("pecrs_quantities")
def make_quantities(nlp: Language, name: str, spans_key: str):
    def quantities(doc: Doc) -> Doc:
        """Numbers with units ("5,230 pg/mL", "> 5,000 pg/mL", "3.1 liters"), each span carrying its pint-ready
        Quantity in ``span._.quantity``."""
        spans = []
        doc._.decimal_comma = writes_decimal_comma(doc.text)
        for quantity in find_quantities(doc.text, decimal_comma=doc._.decimal_comma):
            span = doc.char_span(quantity.start, quantity.end, alignment_mode="expand")
            if span is not None:
                span._.quantity = quantity
                spans.append(span)
        doc.spans[spans_key] = spans
        doc._.quantities_key = spans_key
        return doc

    return quantities


# Doc.user_data key: the parsed Document the text came from (sections, paragraphs, tables)
DOCUMENT = ("pecrs", "document")

for _name in ("patient_segments", "patient_rows"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


def plain_document(text: str):
    """The layout of a text given without its Document: one case section, no tables."""
    from pipeline.document.model import Document, Section

    return Document(doc_id="text", source_file="", format="text", text=text,
                    sections=[Section(id="s1", title="", kind="case", start=0, end=len(text))])


@Language.component("pecrs_patients")
def patients(doc: Doc) -> Doc:
    """Patient segmentation: ``doc._.patient_segments`` (the sentences of each of the article's own patients,
    from prose labels such as "Patient 2" or "Case II") and ``doc._.patient_rows`` (patients given as a row
    or a column of a table, with their cells)."""
    from extractors.patients import segment_patients
    from extractors.tables import table_patients

    document = doc.user_data.get(DOCUMENT) or plain_document(doc.text)
    doc._.patient_segments = segment_patients(doc, document)
    doc._.patient_rows = table_patients(doc, document)
    return doc
