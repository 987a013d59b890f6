"""Patient segmentation: which sentences of an article describe which patient.

An article describes one patient, or several under labels ("Patient 2", "Case 3", "The second
patient"). Introductions, methods, discussions and back matter describe other people's patients
or none, so they are never attributed to a patient of the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from extractors.cues import NUMBER_SIGN, PATIENT_NUMBER, PATIENT_WORD, number_of
from extractors.evidence import cached, concepts_in, sentences
from extractors.listed import listed_patients, listed_spans
from extractors.fields.demographics import AGE, SEX_LETTER, SEX_NOUNS
from extractors.respectively import RESPECTIVELY, dealt_sentence_text, pairs_with_patients, respective_deletions
from extractors.values import COUNT, ORDINALS, count_value
from pipeline.document.model import Document

PATIENT_ZONES = {"title", "abstract", "case", "results", "other", "conclusion"}
# a JATS article type that reviews other people's patients
REVIEW_ARTICLE_TYPES = frozenset({"review-article", "review", "systematic-review", "meta-analysis"})
# a review's section telling a case of its own: "Case illustration: ...", "Illustrative case", "Our patient"
OWN_CASE_SECTION = re.compile(r"""
    \bcase\s+(?:illustration|presentation|vignette|description|history)\b | \billustrative\s+case\b
  | \bour\s+(?:own\s+)?(?:case|patient)\b
    """, re.IGNORECASE | re.VERBOSE)


def tells_its_own_case(section) -> bool:
    """Whether a section of a review tells a case of the review's own, by its title."""
    return section is not None and bool(OWN_CASE_SECTION.search(section.title))
DOCUMENT_ZONES = PATIENT_ZONES | {"methods"}
# Marks a list item or an emphasis may open with: "• Patient 2:", "- Case 3.", "**Patient A** was"
LIST_MARK = r"[\s*_•·▪◦‣●○■□➢►–—-]"
# A sentence or heading opening with a patient's label: "Patient 2", "In case II", "Pt. #3", "Patient B"
LABEL = re.compile(rf"""
    ^{LIST_MARK}*(?:(?:in|for)\s+)?                                # "• Patient 2:", "**Patient A** was"
    (?P<word>{PATIENT_WORD})\s*(?:{NUMBER_SIGN}\s*)?(?P<n>{PATIENT_NUMBER})\b
    (?!\s*(?:%|patients|cases|mg|years|y\b))   # not "case 2 %", "patient 12 years old"
    """, re.IGNORECASE | re.VERBOSE)
# "The second patient ...", "Our first patient, a 19-year-old woman", "The third, a 45-year-old man, ..."
ORDINAL_LABEL = re.compile(rf"""
    ^{LIST_MARK}*(?:(?:in|for)\s+)?(?:the\s+|our\s+)?(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth)
    (?:\s+{PATIENT_WORD}\b                                          # "the second patient"
      | ,?\s+(?:an?|was\ an?)\s+\d{{1,3}}[-\ ](?:year|month))         # "the third, a 45-year-old"
    """, re.IGNORECASE | re.VERBOSE)
# Words telling of a person: "a man", "female", "our patient", "an infant"
PERSON_WORDS = re.compile(r"""\b(
    (?:wo)?man\b | male\b | female\b | boy\b | girl\b                       # "a man", "female"
  | (?:our|the|a|this)\ patient\b                                          # "our patient"
  | gentleman | lady | infant | toddler | child\b | adolescent
  | (?-i:Mr|Mrs|Ms|Miss)\.?\ (?-i:[A-Z])                                      # "Mr. K."
    )""", re.IGNORECASE | re.VERBOSE)


def tells_of_a_patient(text: str) -> bool:
    """Whether a text tells of a patient of one's own: a person, or an age or a sex as case reports write them
    ("34-year-old", "aged 7", "34/M", "F, 67 y")."""
    return bool(PERSON_WORDS.search(text) or AGE.search(text) or SEX_LETTER.search(text))


# a group counted in the tens or more: "of 41 recipients", "Forty-one patients received CAR-T cells"
COHORT_COUNT = re.compile(r"""
    \b(?:\d{2,4}|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-\w+)?)\s+(?:[\w-]+\s+){0,2}?
    (?:patients|participants|subjects|recipients|adults|children)\b
    """, re.IGNORECASE | re.VERBOSE)


def tells_only_of_a_cohort(accounts: list[Span]) -> bool:
    """A study of many patients that introduces none of them by age, sex or as its own patient: "the patient" it
    mentions is one of the counted ("prescribed but not given for a third, because ... after the patient had
    improved"), not a case told."""
    if not any(COHORT_COUNT.search(s.text) for s in accounts):
        return False
    return not any(AGE.search(s.text) or SEX_LETTER.search(s.text) or
                   any(m.group().lower() != "the patient" for m in PERSON_WORDS.finditer(s.text)) for s in accounts)


# A plan or a rule of eligibility, not an account: "Adults aged 18 or older who develop grade 3 CRS will be randomised"
PLANNED = re.compile(r"""\b(?:will|shall)\s+(?:be|receive|undergo|have|get)\b | \bare\s+eligible\b""",
                     re.IGNORECASE | re.VERBOSE)


# Sentences about other people's patients ("Liu and colleagues treated a 10-year-old boy ..."), unless
# the authors speak of their own ("we", "our").
LITERATURE = re.compile(r"""\b(
    et\ al\b | and\ colleagues | and\ co-workers                                       # "Liu et al.", "Xiao and colleagues"
  | (?:a|one|another|the)\ (?:(?!present\b|current\b)[\w-]+\ ){0,2}?                 # "a case report described",
    (?:preprint|report|series|study|group|case\ report)s?\                              # "one Chinese report described",
    (?:(?:from|by|of|in)\ [\w-]+(?:\ [\w-]+)?\ )?                                        # "one report from Asia
    (?:describe[sd]?|reports|reported|documents|documented|show(?:s|ed)|f(?:ound|inds))  #  describes"
  | (?-i:(?!(?:She|He|They|We|It|This|The|Our|Her|His|Their|Patient|Case|Finally|Then|Later)\b)[A-Z][a-z]{2,})  # "Duarte and
    (?:\ and\ (?-i:[A-Z][a-z]{2,}))?\ (?:treated|reported|described|published)\ (?:an?|one|two|three|four)\b  #  Lima treated a"
  | (?-i:[A-Z][a-z]{2,})['’]s\ (?:patient|case|series|cohort)s?\b                      # "Chaudhary's patient"
  | \bacross\ (?:these|the|all)\ (?:[\w-]+\ )?(?:patients|cases|reports)\b             # "Across these ten patients"
  | (?:have|has|had)\ (?:been\ )?(?:described|reported|published)                     # "have been reported"
  | previously\ (?:described|reported|published)                                       # "previously described"
  | (?:in|from)\ the\ literature | reported\ (?:by|in)\b                              # "reported by Smith"
  | published\ (?:cases?|patients|reports?|series|studies)                            # "19 published patients"
  | \b(?:pooled|individual[-\ ]patient)\ (?:data\ )?analys[ie]s\b | meta-?analys[ie]s\b  # "a 2021 pooled analysis"
  | in\ (?:most|many|several|some|other|previous|earlier)\ (?:published\ )?(?:case\ )?   # "(2.5 to 4 L in most
    (?:reports|series|studies|publications)                                            #  case reports)"
  | (?:they|you|the\ (?:correspondents|authors))\ (?:cite|quote|mention)\b              # "the registry they cite"
  | ^\W*they\ (?:described|reported|presented|treated)\b                               # "They described a 52-year-old
    #                                                                                  woman" (another letter's authors)
  | \btheir\ patient(?:['’]s)?\b                                                       # "their patient's exchange"
  | \b(?:reviewed|cited|quoted|pooled|described)\ by\ the\ (?:correspondents|authors)\b  # "the series reviewed by the
    #                                                                                  correspondents"
  | (?:in|from)\ (?:a|the|their|this|that)\ (?:[\w-]+\ ){0,2}registry\b                # "in a Spanish registry"
  | \b(?:the|a)\ recent\ (?:correspondence|letters?|article|report|review|paper|publication)\b   # "the recent
    #                                                                                  correspondence in your journal"
  | (?:in|from|of)\ the\ (?:series|study|report|article|cohort|paper)\ (?:under\ discussion|you\ published|they\ describe)
    #                                                                                 "in the series under discussion"
  | (?:their|the\ (?:correspondents|authors)['’])\ own\ (?:[\w-]+\ ){0,2}(?:patients?|cases?)\b  # "their own two
    )""", re.IGNORECASE | re.VERBOSE)                                                   #  patients"
# the authors speaking of their own patients; not as readers of another's report ("We read with interest the letter
# from Harcourt and colleagues describing a 72-year-old man"); as searchers of the literature, see below
FIRST_PERSON = re.compile(r"""
    \b(?:our|us|we(?!\s+(?:have\s+|also\s+|fully\s+)?(?:read|noted?|agree|thank|congratulate|welcome|enjoyed)\b))\b
    """, re.IGNORECASE | re.VERBOSE)


# the authors as readers of the literature, not as carers of their own patient: "the only previous report that we could
# find in the literature", "to our knowledge"
READING_THE_LITERATURE = re.compile(r"""
    \b(?:that\s+|which\s+)?we\s+(?:could\s+|can\s+|were\s+able\s+to\s+|have\s+)?(?:find|found|identif\w*|locate\w*|trace\w*|searched)\b
  | \bwe\s+(?:are|were)\s+aware\s+of\b | \bwe\s+know\s+of\b | \bto\s+(?:the\s+best\s+of\s+)?our\s+knowledge\b
  | \b(?:prompt\w*|led|leads?|encourag\w*|invit\w*|moved?)\s+us\s+to\b                      # "prompts us to describe"
    """, re.IGNORECASE | re.VERBOSE)


# The authors' patient of an earlier article, recalled in a new one (a reply, a follow-up report): "our first patient
# [1]", "our previous patient", "the patient we had reported", "in our earlier letter"; the new patient is told as
# "since then we treated ...". A first or index patient is an earlier article's only when cited, as a series may
# call its own patient 1 "our first patient".
CITATION_MARK = r"(?:\[\d+(?:\s*[,–-]\s*\d+)*\]|\(\d+\)|(?<=\w)[¹²³⁴⁵⁶⁷⁸⁹⁰]+)"
EARLIER_REPORT = re.compile(rf"""
    \bour\s+(?:previous(?:ly\s+reported)?|earlier|prior|original)\s+(?:patient|case)\b          # "our previous patient"
  | \bour\s+(?:first|index)\s+(?:patient|case)\s*{CITATION_MARK}                              # "our first patient [1]"
  | \b(?:patient|case)\s+(?:whom\s+|that\s+)?we\s+(?:had\s+|have\s+)?(?:previously\s+|already\s+)?   # "the patient we
    (?:reported|described|presented|published)\b                                                 #  had reported"
  | \bour\s+(?:previous|earlier|prior|first|original|last)\s+                                   # "in our earlier letter"
    (?:letter|article|report|paper|publication|communication|case\s+report)\b
    """, re.IGNORECASE | re.VERBOSE)


# Someone else the writer met or heard of, told in passing: "A colleague told me about a patient at an overseas
# centre who had five exchanges", "I had looked after a woman the year before who had plasma exchange for TTP"
PERSON_NOUN = r"(?:patient|woman|man|child|girl|boy|lady|gentleman|person|case)"
ANOTHER_PERSON = re.compile(rf"""
    \b(?:told\s+(?:me|us|him|her)|heard|read|learn(?:ed|t))\s+(?:about|of)\s+(?:an?|another|one)\s+
    (?:[\w-]+\s+){{0,2}}?{PERSON_NOUN}\b                                                    # "told me about a patient"
  | \b(?:looked\s+after|cared\s+for|nursed|treated|seen|met)\s+(?:an?|another)\s+(?:[\w-]+\s+){{0,2}}?{PERSON_NOUN}\s+
    (?:the\s+(?:year|month|week)\s+before|(?:a|one|two|three|some|several)\s+(?:years?|months?|weeks?)\s+
     (?:before|earlier|ago)|years\s+ago|previously|once)\b                                  # "looked after a woman the
    #                                                                                         year before"
  | \b(?:an?|another|one)\s+(?:[\w-]+\s+){{0,3}}?{PERSON_NOUN}\s+(?:described|reported|published|presented)\s+
    elsewhere\b                                                                              # "a 7-year-old girl
    """, re.IGNORECASE | re.VERBOSE)                                                         #  described elsewhere"


GRADING_STATEMENT = re.compile(r"\b(according to|criteria of|graded|grading|scale)\b", re.IGNORECASE)


def about_other_patients(sentence: Span) -> bool:
    text = sentence.text
    if EARLIER_REPORT.search(text) or ANOTHER_PERSON.search(text):
        return True
    # a grading system cited by its authors ("grade 4 CRS (Lee et al., 2014)") names a scale, not their patients
    systems = [(s.start_char - sentence.start_char, s.end_char - sentence.start_char)
               for s in concepts_in(sentence, "GRADING")]
    cited = [m for m in LITERATURE.finditer(text) if not any(a <= m.start() < b for a, b in systems)]
    return bool(cited) and not FIRST_PERSON.search(READING_THE_LITERATURE.sub(" ", text)) and \
        not GRADING_STATEMENT.search(text)


# "Both patients received axi-cel", "Neither patient met HLH criteria", "CRS resolved in all six TPE-treated patients":
# which patients a statement is about ("neither", "none of" are quantifiers here; what they deny is ConText's to read)
GROUP_STATEMENT = re.compile(rf"""
    \b(both|all|each|every|either|neither|none\ of\ (?:the|our|these)|the\ two)\b   # "both", "none of the"
    (?:\s+[\w-]+){{0,3}}?\s+(patients?|cases?|of\ them|children|adults)\b  # "... TPE-treated patients"
  | \bno\s+(?:other\s+)?(?:patients?|cases?)\b                               # "no patient except Patient 2"
  | ^{LIST_MARK}*(both|neither|all)\b                                        # "Both recovered.", "• Both alive"
  | \b(?:and|but|of\ whom)\s+(both|neither)\s+(?:are|were|had|have|recovered|survived|died|remain\w*)\b  # "and both are alive"
  | \b(?:in|for)\s+(both|all\s+(?:two|three|four|five|six|seven|eight|\d{1,2}))\b(?!\s*%)   # "resolved in all three",
    #                                                                                          "FFP replacement for both"
    """, re.IGNORECASE | re.VERBOSE)
# a patient's label anywhere in a text ("... and Patient 3 received anakinra", a caption naming "Case 2")
ANY_LABEL = re.compile(rf"\b{PATIENT_WORD}\s*(?:{NUMBER_SIGN}\s*)?(?P<n>{PATIENT_NUMBER})\b", re.IGNORECASE)
# the authors' own patients as a group, where a discussion speaks of them: "In our three treated patients, ..."
OUR_PATIENTS = re.compile(r"""
    \bour\s+(?:[\w-]+\s+){0,3}?(?:patients|cases)\b                              # "our three treated patients"
  | \b(?:in|of|from)\s+this\s+(?:[\w-]+\s+){0,2}?(?:series|cohort)\b            # "In this small series"
    """, re.IGNORECASE | re.VERBOSE)


# "None of the patients other than Patient 2 met criteria for IEC-HS", "all except case 3": a group statement about the
# patients but the one it names
EXCEPTION = re.compile(rf"""
    \b(?:other\s+than|except(?:\s+for)?|apart\s+from|besides|save\s+for|with\s+the\s+exception\s+of)\s+
    (?:the\s+)?(?P<word>{PATIENT_WORD})\s*(?:{NUMBER_SIGN}\s*)?(?P<n>{PATIENT_NUMBER})\b
    """, re.IGNORECASE | re.VERBOSE)


# "Patient 2 met the criteria for carHLH; the other 3 patients did not": a statement about one patient, then the rest
OTHERS_AFTER_ONE = re.compile(rf"""
    ^\s*(?P<word>{PATIENT_WORD})\s*(?:{NUMBER_SIGN}\s*)?(?P<n>{PATIENT_NUMBER})\b
    .*[;,]\s*(?:but\s+|whereas\s+|while\s+)?(?:the|all)\s+(?:other|remaining)\b(?:\s+[\w-]+){{0,2}}?\s+(?:patients|cases|ones)\b
    """, re.IGNORECASE | re.VERBOSE)


def excepted_patient(sentence: Span) -> int | None:
    """The number of the patient a group statement leaves out ("all but Patient 2"; "Patient 2 had X; the other
    patients did not"), if it leaves one out."""
    others = OTHERS_AFTER_ONE.search(sentence.text)
    if others:
        return label_number(others) or None
    if not GROUP_STATEMENT.search(sentence.text):
        return None
    match = EXCEPTION.search(sentence.text)
    return label_number(match) or None if match else None


# "Patients 1 and 3 did not meet the criteria", "None of Pts 1-3 met criteria", "patients 2, 3 and 5": the patients a
# statement names by their numbers
ONE_LABEL = rf"{PATIENT_WORD}\s*(?:{NUMBER_SIGN}\s*)?{PATIENT_NUMBER}\b"
NAMED_PATIENTS = re.compile(rf"""
    \b(?:patients|cases|pts\.?)\s*(?:{NUMBER_SIGN}\s*)?
    (?:(?P<first>\d{{1,2}})\s*(?:-|–|to)\s*(?P<last>\d{{1,2}})\b                      # "Pts 1-3"
      | (?P<list>{PATIENT_NUMBER}(?:\s*,\s*{PATIENT_NUMBER})*,?\s*(?:and|&)\s*{PATIENT_NUMBER})\b)  # "patients 1, 2 and 4"
  | \b(?P<labels>{ONE_LABEL}(?:\s*,\s*{ONE_LABEL})*,?\s*(?:and|&)\s*{ONE_LABEL})      # "Pt 1, Pt 2 and Pt 3"
    """, re.IGNORECASE | re.VERBOSE)


def named_patients(sentence: Span) -> set[int]:
    """The numbers of the patients a statement names together ("Patients 1 and 3"), if it names two or more."""
    listed = listed_patients(sentence.text)  # "(patient 1, day 3; patient 2, day 5)", "CR (Patient 1), PR (Patient 2)"
    match = NAMED_PATIENTS.search(sentence.text)
    if not match or len(listed) >= 2:
        return listed
    if match.group("first"):
        first, last = int(match.group("first")), int(match.group("last"))
        return set(range(first, last + 1)) if first < last <= first + 20 else set()
    if match.group("labels"):
        numbers = {label_number(label) for label in ANY_LABEL.finditer(match.group("labels"))} - {0}
        return numbers if len(numbers) >= 2 else set()
    tokens = re.sub(r"\band\b|&|,", " ", match.group("list")).split()
    numbers = {number_of(token) for token in tokens} - {0}
    return numbers if len(numbers) >= 2 else set()


# "Two patients with relapsed B-ALL received ...", "three consecutive cases": a statement about as many patients as the
# article labels is about all of them
COUNTED_GROUP = re.compile(rf"""
    \b(?P<n>{COUNT})\s+(?:[\w/-]+\s+){{0,2}}?(?:patients|cases|children|adults)\b
    """, re.IGNORECASE | re.VERBOSE)


def _counts(text: str) -> int | None:
    match = COUNTED_GROUP.search(text)
    return count_value(match.group("n")) if match else None


# "the CRS resolved in all three": a group counted by the words after "all"
ALL_COUNTED = re.compile(rf"\b(?:in|of|for)\s+all\s+(?P<n>{COUNT})\b(?!\s*%)", re.IGNORECASE)


# the patients just told of: "these two patients", "the above two cases"
THESE_PATIENTS = re.compile(r"\b(?:these|the\s+(?:above|former))\s+(?:\w+\s+)?(?:patients|cases)\b", re.IGNORECASE)


def group_count(text: str) -> int | None:
    """How many patients a group statement counts ("our three treated patients", "in all three"), if it says."""
    match = ALL_COUNTED.search(text)
    return count_value(match.group("n")) if match else _counts(text)


# "(P1, 34M, B-ALL, academic CAR-T; P2, 58F, DLBCL, axi-cel)": a sentence that tells of several patients in turn,
# each in a clause opening with the patient's label and a comma or colon
CLAUSE_LABEL = re.compile(rf"""
    (?:^|[(;:])\s*(?:and\s+)?                  # "(P1, ...", "; patient B, ...", "were treated: patient A, ...", "; and"
    (?P<word>{PATIENT_WORD})\s*(?:{NUMBER_SIGN}\s*)?(?P<n>{PATIENT_NUMBER})\s*[,:]
    """, re.IGNORECASE | re.VERBOSE)


def labelled_clauses(sentence: Span) -> list[tuple[int, str, Span]]:
    """The clauses of a sentence about two or more patients in turn, each with its patient's number and label; the
    words before the first label are returned as a clause of number 0."""
    listing = listed_spans(sentence.text)  # "(patient 1, day 3; patient 2, day 5)": values, not clauses
    matches = [m for m in CLAUSE_LABEL.finditer(sentence.text) if label_number(m)
               and not any(a <= m.start("word") < b for a, b in listing)]
    if len({label_number(m) for m in matches}) < 2:
        return _clauses_told_apart(sentence)
    doc, base = sentence.doc, sentence.start_char
    bounds = [m.start("word") for m in matches] + [len(sentence.text)]
    clauses = [(0, "", 0, bounds[0])] if sentence.text[:bounds[0]].strip() else []
    clauses += [(label_number(m), label_text(m), start, end) for m, start, end in zip(matches, bounds, bounds[1:])]
    return [(number, label, doc.char_span(base + start, base + end, alignment_mode="expand"))
            for number, label, start, end in clauses]


# a figure the account cites ("her course is shown in Figure 1", "(Fig. 2)"), and a caption's label ("Figure 1.")
FIGURE_CITED = re.compile(r"\bFig(?:ure)?s?\.?\s*(?P<n>\d{1,2})\b", re.IGNORECASE)
CAPTION_LABEL = re.compile(r"^\s*Fig(?:ure)?\.?\s*(?P<n>\d{1,2})\b", re.IGNORECASE)


def cited_figure_captions(doc: Doc, document: Document, account: list[Span]) -> list[Span]:
    """The sentences of the captions of the figures a patient's account cites, where an article may tell what the
    account leaves out ("Figure 1. Fever appeared 36 h after infusion ... exchanges on days 6, 7 and 9"); not a
    caption naming a patient, which may be another's."""
    cited = {m.group("n") for sentence in account for m in FIGURE_CITED.finditer(sentence.text)}
    if not cited:
        return []
    captions = []
    for paragraph in document.paragraphs:
        text = doc.text[paragraph.start:paragraph.end]
        label = CAPTION_LABEL.match(text) if paragraph.kind == "caption" else None
        if label and label.group("n") in cited and not ANY_LABEL.search(text):
            captions += [s for s in sentences(doc) if paragraph.start <= s.start_char < paragraph.end]
    return captions


# where a clause about some of the patients ends: a semicolon, or a comma or a conjunction before a patient's label
# ("All four received dexamethasone, and Patient 1 also received methylprednisolone"; "Patient 1 is in complete
# remission, and Patient 2 had a partial response")
LABELLED_CLAUSE_BREAK = re.compile(rf"""
    ;
  | (?:,\s*|,?\s+(?:and|but|while|whereas)\s+)(?=(?:the\s+)?{PATIENT_WORD}\s*(?:{NUMBER_SIGN}\s*)?{PATIENT_NUMBER}\b)
    """, re.IGNORECASE | re.VERBOSE)


# a time a clause may open with before its patient's label: "At three months Case 1 was in remission", "By day 30,"
LEADING_TIME = re.compile(r"^(?:at|by|after|on|from|within)\s+(?:[\w+-]+\s+){0,2}?(?:months?|weeks?|years?|days?"
                          r"|[dD]\s?\+?\d{1,3}|day\s+\+?\d{1,3}|follow-?up|visit|review|contact)\b,?\s+", re.IGNORECASE)


def _clauses_told_apart(sentence: Span) -> list[tuple[int, str, Span]]:
    """"Patients 1 and 3 received academic cells; patient 2 received axicabtagene ciloleucel": clauses between
    LABELLED_CLAUSE_BREAKs, one opening with a patient's label and another with a label or the patients it names; a
    clause naming several is returned as a clause of number 0 (whose named patients share it)."""
    text = sentence.text
    # "(patient 1, day 3; patient 2, day 5)", "Pt 1, Pt 2 and Pt 3 had DLBCL": lists, not clauses
    listing = listed_spans(text) + [m.span() for m in NAMED_PATIENTS.finditer(text)]
    bounds = [0] + [b for m in LABELLED_CLAUSE_BREAK.finditer(text) if not any(a <= m.start() < z for a, z in listing)
                    for b in (m.start(), m.end())] + [len(text)]
    parts = [(start, end) for start, end in zip(bounds[::2], bounds[1::2]) if text[start:end].strip()]
    opened = []
    for start, end in parts:
        clause = text[start:end].lstrip()
        untimed = LEADING_TIME.sub("", clause, count=1)
        label = LABEL.match(clause) or LABEL.match(untimed)
        named = NAMED_PATIENTS.match(clause) or NAMED_PATIENTS.match(untimed)
        opened.append((0, "named") if named else
                      (label_number(label), label_text(label)) if label and label_number(label) else (0, ""))
    if not any(number for number, _ in opened) or sum(bool(number or kind) for number, kind in opened) < 2:
        return []
    doc, base = sentence.doc, sentence.start_char
    return [(number, label if number else "", doc.char_span(base + start, base + end, alignment_mode="expand"))
            for (number, label), (start, end) in zip(opened, parts)]


@dataclass
class PatientSegment:
    number: int
    label: str = ""
    sentences: list[Span] = field(default_factory=list)
    shared: list[Span] = field(default_factory=list)
    excepting: list[Span] = field(default_factory=list)  # statements about all the patients but another one
    named: list[Span] = field(default_factory=list)  # statements naming this patient among others
    subgroup: list[Span] = field(default_factory=list)  # statements counting fewer patients than the article has


def _share_statements_with_an_exception(labelled: dict[int, PatientSegment], unlabelled: list[Span]) -> None:
    """A group statement leaving one patient out ("None of the patients other than Patient 2 met criteria for
    IEC-HS"), wherever it stands, is about every other patient and not the one it names: it leaves the account it
    stands in and is shared with the others."""
    for sentence in unlabelled + [s for segment in labelled.values() for s in segment.sentences]:
        number = excepted_patient(sentence)
        if number is None or number not in labelled:
            continue
        for segment in labelled.values():
            if sentence in segment.sentences:
                segment.sentences.remove(sentence)
            if segment.number != number:
                segment.excepting.append(sentence)
        if sentence in unlabelled:
            unlabelled.remove(sentence)


def _share_statements_naming_patients(labelled: dict[int, PatientSegment], unlabelled: list[Span]) -> None:
    """A statement naming some of the patients ("Patients 1 and 3 did not meet the criteria for IEC-HS", "None of Pts
    1-3 ...") is about each of them and no other: it is shared with those it names."""
    for sentence in list(unlabelled):
        numbers = named_patients(sentence) & set(labelled)
        if len(numbers) < 2:
            continue
        for segment in labelled.values():
            if segment.number in numbers:
                segment.named.append(sentence)
        unlabelled.remove(sentence)


def section_kind(document: Document, offset: int) -> str:
    section = document.section_at(offset)
    return section.kind if section else "other"


def told_of_others_only(span: Span, number: int) -> bool:
    """Whether the clause (LABELLED_CLAUSE_BREAK) of a group statement holding ``span`` names patients by their labels
    and not patient ``number``: "Both received dexamethasone; Patient 2 was switched to methylprednisolone" tells
    Patient 1 nothing of methylprednisolone."""
    sentence = span.sent
    text, at = sentence.text, span.start_char - sentence.start_char
    breaks = [(m.start(), m.end()) for m in LABELLED_CLAUSE_BREAK.finditer(text)]
    start = max((end for begin, end in breaks if end <= at), default=0)
    end = min((begin for begin, _ in breaks if begin >= at), default=len(text))
    clause = EXCEPTION.sub(" ", text[start:end])  # not "other than Patient 2": all but 2
    named = {label_number(m) for m in ANY_LABEL.finditer(clause)} - {0}
    return bool(named) and number not in named


def label_number(match: re.Match) -> int:
    """Patient 2, Case II, Patient B: the patient's number in the article."""
    return number_of(match.group("n"))


def label_text(match: re.Match) -> str:
    word = match.group("word").rstrip(".").capitalize()
    return f"{'Patient' if word in ('P', 'Pt', 'Subject') else word} {match.group('n')}"


def _sentence_label(sentence: Span) -> tuple[int, str] | None:
    """The label a sentence opens with, or goes on to after a heading word and a colon ("Results: Patient A (BCMA
    CAR-T, myeloma): fever ...")."""
    for text in (sentence.text, HEADING_LEAD.sub("", sentence.text, count=1)):
        match = LABEL.match(text)
        if match and label_number(match):
            return label_number(match), label_text(match)
    ordinal = ORDINAL_LABEL.match(sentence.text)
    if ordinal:
        return ORDINALS[ordinal.group("ord").lower()], ""
    return None


# an option of a multiple-choice question in a teaching case: "A. Siltuximab 11 mg/kg intravenously"
OPTION_MARK = re.compile(r"^\s*(?P<letter>[A-F])[.)]\s+\S")
# the options run together into one sentence: "A. Siltuximab 11 mg/kg B. Anakinra ... C. Plasma exchange"
OPTION_LETTER = re.compile(r"(?:^|\s)(?P<letter>[A-F])[.)]\s+\S")


def answer_options(doc: Doc) -> set[int]:
    """The sentences (by start) that are the options of a question ("Which is the most appropriate first step?" then
    "A. Siltuximab ...", "B. Tocilizumab ..."): what might be done, not what was. One lettered sentence alone after a
    question is its answer ("Q1. Who was the patient? A. A 41-year-old woman ..."), not an option."""
    def build() -> set[int]:
        found: set[int] = set()
        marked: list[tuple[str, int]] = []  # the lettered sentences after a question, with their starts
        asked = False
        for sentence in sentences(doc) + [None]:
            text = sentence.text.strip() if sentence is not None else "?"
            mark = OPTION_MARK.match(text) if asked else None
            if mark:
                marked.append((text, sentence.start))
                continue
            if marked and not text.endswith("?"):
                continue  # an option told in more than one sentence
            if len({m.group("letter") for option, _ in marked for m in OPTION_LETTER.finditer(option)}) >= 2:
                found.update(start for _, start in marked)
            marked, asked = [], text.endswith("?")
        return found
    return cached(doc, ("pecrs", "answer_options"), build)


def is_table_text(document: Document, offset: int) -> bool:
    paragraph = document.paragraph_at(offset)
    return paragraph is not None and paragraph.kind in ("table-row", "caption", "footnote")


# A heading's own word before the label it goes on to: "RESULTS: Pt A", "Case presentation - Patient 2"
HEADING_LEAD = re.compile(r"^[^:\-–—]{1,30}?\s*(?::|\s[-–—])\s*")


SECTION_NUMBER = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})*\.?\s+(?=\D)")


def _title_label(title: str) -> re.Match | None:
    """The label a section's title opens with, or goes on to after its heading word and a colon or a dash."""
    if len(title) > 40:
        return None
    title = SECTION_NUMBER.sub("", title, count=1)  # "2.1 Case 1"
    for text in (title, HEADING_LEAD.sub("", title, count=1)):
        match = LABEL.match(text)
        if match and label_number(match):
            return match
    return None


# a section titled by a patient's initials: "Patient S.V.", "Case J. M."
INITIALS_TITLE = re.compile(r"^\s*(?:patient|case)\s+(?P<initials>(?:[A-Z]\.\s?){1,3})\s*$", re.IGNORECASE)


def _initials_label(document: Document, title: str) -> tuple[int, str] | None:
    """A patient headed by initials is numbered in the order the article's headings name such patients."""
    match = INITIALS_TITLE.match(title)
    if match is None:
        return None
    named = [m.group("initials").replace(" ", "") for s in document.sections if (m := INITIALS_TITLE.match(s.title))]
    initials = match.group("initials").replace(" ", "")
    return list(dict.fromkeys(named)).index(initials) + 1, f"Patient {initials}"


def _labelled_section(document: Document, section) -> tuple[int, str] | None:
    """The label of the nearest enclosing section titled "Patient N" / "Case N" / "Results: Pt N" / "Patient S.V.",
    if any."""
    by_id = {s.id: s for s in document.sections}
    while section is not None:
        match = _title_label(section.title)
        if match:
            return label_number(match), label_text(match)
        by_initials = _initials_label(document, section.title)
        if by_initials:
            return by_initials
        section = by_id.get(section.parent_id) if section.parent_id else None
    return None


# A paragraph opening with a new person, in a series that tells its patients one after another without labels:
# "A 58-year-old man with DLBCL ...", "A woman of 44 with B-ALL ...", "Next, a 63-year-old man ..."
INTRODUCED = re.compile(rf"""
    ^{LIST_MARK}*(?:(?:next|then|finally|lastly),?\s+)?
    (?:(?:the|our)\s+(?:[\w-]+\s+)?(?:case|patient)\s+(?:is|was)\s+)?   # "The index case is a 21-year-old woman"
    (?:(?:(?:a|the)\s+(?:second|third|fourth|fifth|further|last|final)|another)\s+(?:patient|case)\s*,\s*)?  # "A second
    an?\s+                                                                #  patient, a 50-year-old man"
    (?:(?P<age>\d{{1,3}})[-\ ](?:year|yr)s?[-\ ]old\s+(?:[\w-]+\s+){{0,2}}?(?P<sex>{SEX_NOUNS})
      | (?P<sex2>{SEX_NOUNS})\s+(?:of|aged)\s+(?P<age2>\d{{1,3}}))\b
    """, re.IGNORECASE | re.VERBOSE)


def _opens_its_paragraph(document: Document, sentence: Span) -> bool:
    paragraph = document.paragraph_at(sentence.start_char)
    return paragraph is not None and paragraph.kind in ("paragraph", "list-item") and \
        not sentence.doc.text[paragraph.start:sentence.start_char].strip()


def _introduced_accounts(doc: Doc, document: Document) -> list[PatientSegment]:
    """The patients of a series told one paragraph each, each paragraph opening with a new person by age and sex, in
    the body (not its abstract); each account runs to the next one or to the end of its section. Two openings with
    the same age and sex are one patient told twice. None unless two or more patients are told so."""
    openings = []
    for sentence in sentences(doc):
        kind = section_kind(document, sentence.start_char)
        # a letter without headings is all in its title's zone: its paragraphs, not its title, count
        if kind not in PATIENT_ZONES - {"abstract"} or not _opens_its_paragraph(document, sentence):
            continue
        match = INTRODUCED.match(sentence.text)
        if match and not about_other_patients(sentence):
            sex = (match.group("sex") or match.group("sex2")).lower()
            openings.append((sentence, (match.group("age") or match.group("age2"), sex)))
    people = list(dict.fromkeys(key for _, key in openings))
    if len(people) < 2:
        return []
    segments: dict[int, PatientSegment] = {}
    for index, (opening, person) in enumerate(openings):
        section = document.section_at(opening.start_char)
        end = openings[index + 1][0].start_char if index + 1 < len(openings) else section.end if section else len(doc.text)
        if section is not None:
            end = min(end, section.end)
        number = people.index(person) + 1
        segment = segments.setdefault(number, PatientSegment(number, f"{person[0]} {person[1]}"))
        segment.sentences += [s for s in sentences(doc) if opening.start_char <= s.start_char < end
                              and not is_table_text(document, s.start_char) and not about_other_patients(s)]
    return [segments[n] for n in sorted(segments)]


# Two patients introduced in one sentence and told apart by what they are: "We treated a 41-year-old man and a
# 66-year-old woman. The man, with B-ALL, ... The woman, with myeloma, ..."
PERSON = re.compile(rf"\ban?\s+(?P<age>\d{{1,3}})[-\ ](?:year|yr)s?[-\ ]old\s+(?:[\w-]+\s+){{0,2}}?(?P<sex>{SEX_NOUNS})\b",
                    re.IGNORECASE)
# a sentence opening on one of them: "The man, with relapsed B-ALL, ...", "The younger woman had ..."
REFERRED = re.compile(rf"^{LIST_MARK}*(?:the|this)\s+(?:(?:older|younger|first|second)\s+)?(?P<sex>{SEX_NOUNS})\b",
                      re.IGNORECASE)


# one of them, once a sentence introducing them side by side is dealt out (extractors.respectively): "A man and a
# woman, aged 34 and 61 years, respectively, ..." reads "A man, aged 34 years, ..." for the first
AGED_PERSON = re.compile(rf"\ban?\s+(?P<sex>{SEX_NOUNS})\s*,?\s+aged\s+(?P<age>\d{{1,3}})\b", re.IGNORECASE)


def _people_side_by_side(opening: Span) -> list[tuple[str, str]]:
    """The people a sentence introduces side by side ("A man and a woman, aged 34 and 61 years, respectively"),
    each as (age, noun), in order; none unless each is one person of an age and a noun."""
    if not RESPECTIVELY.search(opening.text):
        return []
    for count in (2, 3):
        people = []
        for index in range(count):
            text = dealt_sentence_text(opening, index, count)
            found = list(PERSON.finditer(text)) + list(AGED_PERSON.finditer(text))
            if len(found) != 1:
                break
            people.append((found[0].group("age"), found[0].group("sex").lower()))
        if len(people) == count:
            return people
    return []


def _introduced_together(doc: Doc, document: Document) -> list[PatientSegment]:
    """The patients of an account that introduces two or three in one sentence, each by age and a noun of its own
    ("a 41-year-old man and a 66-year-old woman"), and then tells each in sentences opening on that noun ("The
    man, ...", "The woman, ..."); each account runs to the next such opening or to a statement about them all. The
    introducing sentence gives each patient the words that introduce it; the account's other sentences are shared."""
    for opening in sentences(doc):
        if section_kind(document, opening.start_char) not in PATIENT_ZONES - {"title"}:
            continue
        people = list(PERSON.finditer(opening.text))
        side_by_side = _people_side_by_side(opening) if len(people) < 2 else []
        nouns = [m.group("sex").lower() for m in people] or [noun for _, noun in side_by_side]
        if not 2 <= len(nouns) <= 3 or len(set(nouns)) != len(nouns) or about_other_patients(opening):
            continue
        if side_by_side:
            # the whole sentence, which the case assembly deals out to each
            segments = {noun: PatientSegment(number, f"{age} {noun}", [opening])
                        for number, (age, noun) in enumerate(side_by_side, 1)}
        else:
            segments = {noun: PatientSegment(number, f"{m.group('age')} {noun}", [doc.char_span(
                opening.start_char + m.start(), opening.start_char + m.end(), alignment_mode="expand")])
                for number, (noun, m) in enumerate(zip(nouns, people), 1)}
        current, shared, later = None, [], []
        for sentence in sentences(doc):
            if sentence.start_char <= opening.start_char or is_table_text(document, sentence.start_char) or \
                    section_kind(document, sentence.start_char) not in PATIENT_ZONES:
                continue
            later.append(sentence)
            referred = REFERRED.match(sentence.text)
            if referred and referred.group("sex").lower() in segments:
                current = segments[referred.group("sex").lower()]
            elif GROUP_STATEMENT.search(sentence.text):
                current = None
            if current is not None:
                current.sentences.append(sentence)
            else:
                shared.append(sentence)
        if not side_by_side and any(len(segment.sentences) < 2 for segment in segments.values()):
            if not any(RESPECTIVELY.search(s.text) for s in [opening] + later):
                return []  # introduced together, but not told apart (side by side, they are told apart as they go on)
            # introduced in an apposition and told side by side ("We report two patients, a 47-year-old man with
            # DLBCL and a 61-year-old woman with MCL, who were infused with A and B, respectively"): the opening and
            # all that follows are each one's account, dealt out to each by the case assembly
            for segment in segments.values():
                segment.sentences = segment.sentences[:1] + [opening] + later
            return list(segments.values())
        for segment in segments.values():
            segment.shared = shared
        return list(segments.values())
    return []


# An account that counts its patients and then tells them side by side, in lists of as many values ("We report three
# patients who underwent TPE ... The patients were aged 34, 51 and 62 years, respectively; ..."), naming each, when
# it does, by the order it told them in ("The third patient had IEC-HS")
ANNOUNCED = re.compile(rf"""
    \b(?:report|describe|present|share|treated)\w*\s+(?:here(?:in)?\s+)?(?:the\s+cases?\s+of\s+)?
    (?P<n>{COUNT})\s+(?:[\w-]+\s+){{0,3}}?(?:patients|cases|children|adults)\b
    """, re.IGNORECASE | re.VERBOSE)
ORDINAL_OPENING = re.compile(r"^\W*(?:the|our)\s+(?P<ord>first|second|third|fourth)\s+(?:patient|case|one)\b",
                             re.IGNORECASE)
# of an account told side by side, how many of its sentences must list values per patient
MOST_COUNTED = 4
LISTS_TO_TELL_APART = 2


def _counted_side_by_side(doc: Doc, document: Document) -> list[PatientSegment]:
    """The patients of an account that counts them and tells them side by side: each one's account is all of it
    (dealt out to each by the case assembly), less the sentences that open on another by its order."""
    for opening in sentences(doc):
        if section_kind(document, opening.start_char) not in PATIENT_ZONES or about_other_patients(opening):
            continue
        announced = ANNOUNCED.search(opening.text)
        if not announced:
            continue
        count = count_value(announced.group("n"))
        if not count or not 2 <= count <= MOST_COUNTED:
            return []
        later = [s for s in sentences(doc) if s.start_char > opening.start_char
                 and not is_table_text(document, s.start_char)
                 and section_kind(document, s.start_char) in PATIENT_ZONES and not about_other_patients(s)]
        if sum(bool(respective_deletions(s, 0, count)) for s in later) < LISTS_TO_TELL_APART:
            return []
        words = {n: word for word, n in ORDINALS.items()}
        segments = [PatientSegment(n, f"{words[n]} patient", [opening]) for n in range(1, count + 1)]
        for sentence in later:
            own = ORDINAL_OPENING.match(sentence.text)
            number = ORDINALS[own.group("ord").lower()] if own else 0
            for segment in segments:
                if not number or segment.number == number:
                    segment.sentences.append(sentence)
        return segments
    return []


def _technique_for_all(sentence: Span) -> bool:
    """A sentence of a series' methods telling how the exchanges were done, naming no patient and counting none."""
    return bool(concepts_in(sentence, "PE")) and not ANY_LABEL.search(sentence.text) and \
        not re.search(r"\b(?:patients?|cases?)\b", sentence.text, re.IGNORECASE)


def segment_patients(doc: Doc, document: Document) -> list[PatientSegment]:
    """Segments of the article's own patients, in order of their numbers."""
    labelled: dict[int, PatientSegment] = {}
    unlabelled: list[Span] = []
    current: PatientSegment | None = None
    current_section = current_paragraph = None
    told_by_heading = False

    def patient(number: int, label: str) -> PatientSegment:
        segment = labelled.setdefault(number, PatientSegment(number, label))
        segment.label = segment.label or label
        return segment

    methods_group: list[Span] = []
    methods_named: list[Span] = []
    for sentence in sentences(doc):
        start = sentence.start_char
        kind = section_kind(document, start)
        if is_table_text(document, start) or about_other_patients(sentence) or sentence.start in answer_options(doc):
            continue
        if kind == "discussion" and GROUP_STATEMENT.search(sentence.text) and OUR_PATIENTS.search(sentence.text) \
                and not ANY_LABEL.search(sentence.text):
            # "In our three treated patients, ... the CRS resolved in all three"; not "every one of our patients
            # received tocilizumab, and Patient 3 received anakinra", which tells of one of them too
            methods_group.append(sentence)
        if kind == "methods" and (GROUP_STATEMENT.search(sentence.text) or _technique_for_all(sentence)):
            # "All patients were treated on a phase II study of an in-house CD19 product", "TPE was performed with a
            # cell separator, exchanging one plasma volume per session": the methods of a series tell of its
            # patients as a group
            methods_group.append(sentence)
        elif kind == "methods" and (named_patients(sentence) or _sentence_label(sentence)):
            # "Patients 1, 2 and 4 had B-ALL ...", "Patient 3 had myeloma and received eque-cel": or some of them
            methods_named.append(sentence)
        if kind not in PATIENT_ZONES:
            continue
        section = document.section_at(start)
        if section is not current_section:
            current_section = section
            heading = _labelled_section(document, section)
            current = patient(*heading) if heading else None
            told_by_heading = heading is not None
        paragraph = document.paragraph_at(start)
        if paragraph is not current_paragraph:
            current_paragraph = paragraph
            if current is not None and not told_by_heading and not _sentence_label(sentence) and \
                    OUR_PATIENTS.search(sentence.text):
                # "Two exchanges were enough in our patients, ...": a paragraph about them all ends the last account
                # where no heading tells where it ends
                current = None
        clauses = labelled_clauses(sentence)
        if clauses:
            for number, label, clause in clauses:
                if not number:
                    # "Pt 1, Pt 2 and Pt 3 had DLBCL; Pt 4 had MCL": the patients a clause names are the article's
                    # too, and the clause is theirs (shared with those it names, below)
                    for named in ANY_LABEL.finditer(clause.text) if len(named_patients(clause)) >= 2 else ():
                        found = LABEL.match(clause.text[named.start():])
                        if found and label_number(found):
                            patient(label_number(found), label_text(found))
                if number:
                    patient(number, label).sentences.append(clause)
                elif current is not None and not named_patients(clause):
                    current.sentences.append(clause)
                else:
                    unlabelled.append(clause)
            current = None  # what follows a sentence about several patients is about none of them in particular
            continue
        found = _sentence_label(sentence)
        if found:
            current = patient(*found)
        elif len(named_patients(sentence)) >= 2:
            # "None of Pts 1-3 met criteria for IEC-HS. No procedure had to be stopped early.": a statement naming
            # several patients ends the account of one; what follows it, until the next label, is about the group
            current = None
        if current is not None:
            current.sentences.append(sentence)
        else:
            unlabelled.append(sentence)
    if len(labelled) >= 2:
        # "TPE was started on day 4 and day 5, respectively", in the second patient's account: about both
        side_by_side = [s for segment in labelled.values() for s in segment.sentences
                        if not _sentence_label(s) and pairs_with_patients(s, len(labelled))]
        for segment in labelled.values():
            segment.sentences = [s for s in segment.sentences if s not in side_by_side]
        _share_statements_with_an_exception(labelled, unlabelled)
        _share_statements_naming_patients(labelled, unlabelled)
        for sentence in methods_named:
            label = _sentence_label(sentence)
            for number in named_patients(sentence) or {label[0]}:
                if number in labelled:
                    labelled[number].named.append(sentence)
        # a statement about the whole group, in an account of one patient ("Neither patient met HLH criteria" after
        # the second patient's course) or outside any, is about each
        told = unlabelled + [s for segment in labelled.values() for s in segment.sentences]
        group = methods_group + side_by_side + [s for s in unlabelled if _counts(s.text) == len(labelled)] + \
            sorted((s for s in told if GROUP_STATEMENT.search(s.text) and not named_patients(s)), key=lambda s: s.start)
        # "the CRS resolved in all three" of four referred: about some of them, which the case assembly may tell
        subgroup = [s for s in group if (group_count(s.text) or len(labelled)) < len(labelled)]
        group = [s for s in group if s not in subgroup]
        # "Neither of these two patients developed neurotoxicity", after the second of three accounts: about the
        # patients told so far
        for sentence in [s for s in subgroup if THESE_PATIENTS.search(s.text)]:
            told_before = [n for n, segment in labelled.items()
                           if segment.sentences and segment.sentences[0].start_char < sentence.start_char]
            if len(told_before) == group_count(sentence.text):
                subgroup.remove(sentence)
                for number in told_before:
                    labelled[number].named.append(sentence)
                    if sentence in labelled[number].sentences:
                        labelled[number].sentences.remove(sentence)
        for segment in labelled.values():
            segment.shared = group + [s for s in segment.excepting + segment.named if s not in group]
            segment.subgroup = subgroup
        return [labelled[n] for n in sorted(labelled)]
    # one label alone ("The fourth patient" over the one excluded) does not tell the series' patients apart
    introduced = (_introduced_accounts(doc, document) or _introduced_together(doc, document)
                  or _counted_side_by_side(doc, document)) if len(labelled) <= 1 else []
    if introduced:
        for segment in introduced:
            segment.shared = segment.shared or list(methods_group)
        return introduced
    single = PatientSegment(1)
    single.sentences = sorted(unlabelled + [s for seg in labelled.values() for s in seg.sentences], key=lambda s: s.start)
    own_case = [s for s in single.sentences if tells_its_own_case(document.section_at(s.start_char))]
    if document.article_type.lower() in REVIEW_ARTICLE_TYPES and own_case:
        single.sentences = own_case  # a review's case of its own is told in its case section; the rest reviews others
    if not any(tells_of_a_patient(s.text) and not PLANNED.search(s.text) for s in single.sentences) or \
            tells_only_of_a_cohort(single.sentences):
        return []
    return [single]
