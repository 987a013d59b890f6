"""Plasma exchange (sessions, day, volume, fluid) and other extracorporeal purification."""

from __future__ import annotations

import re

from spacy.tokens import Span

from extractors.components import DOCUMENT
from extractors.cues import EXCHANGE_LONG_NAME, EXCHANGE_NAME, EXCHANGE_SHORT_FORMS
from extractors.assertion import NOT_AFFIRMING, context_modifiers, flagged, is_affirmed, target
from extractors.evidence import Finding, concepts_in, in_one_clause, quantities_in, section_of, sentence_of
from extractors.fields.inputs import Cell, PatientContext
from extractors.quantities import Quantity, find_quantities
from extractors.values import COUNT, ORDINAL, ORDINALS, count_value, day_series, days_in, find_days, hours_in
from pipeline.schema import FIELD_BY_NAME

# the registry's plausibility bounds decide which numbers can be these fields' values
PE_SESSIONS, PE_VOLUME, PLASMA_VOLUMES_FIELD = (FIELD_BY_NAME[name] for name in
                                                ("pe_sessions", "pe_volume_ml", "pe_plasma_volumes"))

# what counts exchanges: "three sessions", "two rounds", "four cycles"
COUNTED = r"(?:sessions?|procedures?|rounds?|cycles?|courses?|runs?|treatments?|occasions?)"
# what is counted: "sessions", "times", "(therapeutic) plasma exchanges" (but not "plasma exchange sessions": there the
# sessions are counted)
SESSION_NOUN = rf"(?:{COUNTED}|exchanges?|times|(?:therapeutic\s+)?{EXCHANGE_LONG_NAME}(?!\s+{COUNTED}))"
# right after a name of the exchange: "TPE ×3", "PLEX x 2", "apheresis x2"
AFTER_EXCHANGE_SHORT_FORM = "|".join(rf"(?<=\b{short})" for short in (*EXCHANGE_SHORT_FORMS, "apheresis"))
# a short form counted as sessions: "two TPE", "3 PLEXs" (not "PE", which counts nothing on its own)
SHORT_FORM_PLURALS = "|".join(rf"{short}s?" for short in EXCHANGE_SHORT_FORMS if short != "PE")
# a drug's dosing, not a count of sessions: "dexamethasone 10 mg four times daily", "twice a day"
DOSING = r"\s+(?:daily|a\s+day|per\s+day|each\s+day|every\s+day|a\s+week|weekly|per\s+week|hourly)\b"  # "each day"
NOT_A_DOSING = rf"(?!{DOSING})"
SESSIONS = re.compile(rf"""
    (?<![\d.])\b(?:a\ total\ of\s+|total(?:ly)?\ of\s+|overall\s+)?(?P<n>{COUNT})\s+   # "a total of three", "4"
    (?:consecutive\s+|daily\s+|further\s+|more\s+)?
    (?:(?:\d(?:\.\d+)?\s*(?:x|×|-)?\s*|single[-\ ]|one[-\ ])?(?:plasma[-\ ]volumes?|PV|TPV)\s+)?  # "1.5x plasma volume"
    (?:{EXCHANGE_NAME}\s+)?{SESSION_NOUN}\b{NOT_A_DOSING}                             # "daily TPE sessions"
  | (?:{AFTER_EXCHANGE_SHORT_FORM}|(?<=:))\)?\s*(?:×|x\s?)(?P<x>\d{{1,2}})\b         # "TPE ×3", "PLEX: x 2", "(PLEX) x 4"
  | \b(?P<days>{COUNT})\s+consecutive\s+days\b                                       # "on three consecutive days"
  | \bdaily\s+for\s+(?P<daily>{COUNT})\s+days\b                                      # "daily for five days"
  | \b(?P<adverb>twice|thrice)\b{NOT_A_DOSING}                                      # "was performed ..., twice"
  | (?<!day\ )(?<!days\ )(?<![+\d.])\b(?P<short>{COUNT})\s+(?:{SHORT_FORM_PLURALS})\b(?!\s*(?:[-–]|\d))    # "two TPE";
    (?!\s+(?:sessions?|procedures?){DOSING})                                          #  not "one TPE session each day"
    (?!\s+(?:patients|cases|recipients)\b)                                             #  nor "Two TPE patients had ..."
  | (?<![\d.])\b(?P<total>{COUNT})\s+in\s+(?:all|total)\b                          # "so she had three in all"
    """, re.IGNORECASE | re.VERBOSE)
# "the second session", "after the third TPE", "a fourth plasma exchange procedure"
ORDINAL_SESSION = re.compile(rf"""
    \b(?P<o>{ORDINAL})\s+(?:{EXCHANGE_NAME}\s+)?(?:session|procedure|exchange|round|course|{EXCHANGE_NAME})\b
    """, re.IGNORECASE | re.VERBOSE)
# a session told by its number: "TPE session 3", "PLEX no. 4", "plasma exchange #2", "TPE 3;" (a timeline's entry)
NUMBERED_SESSION = re.compile(rf"""
    \b(?:{EXCHANGE_NAME}|plasma\s+exchange)\s+
    (?:(?:session|procedure)\s+|no\.\s*|number\s+|\#\s*)?(?P<n>\d{{1,2}})\b
    (?=\s*(?:$|[;,)]|(?:with|and|was|were|on)\b))          # not "TPE 1.5 plasma volumes", "PLEX 40 mL/kg"
    """, re.IGNORECASE | re.VERBOSE)
# a sentence that tells when the exchanges began
START_CUE = re.compile(r"""
    \b(start|initiat|began|begin|commenc|first|perform|underw|receiv|given|undergo|institut|on\ day|day)  # "was started on"
  | \bD\s?[+]?\d                                                                                     # "D+5"
  | ^[^:]{0,40}:                                                                                     # "TPE: D5-D7"
    """, re.IGNORECASE | re.VERBOSE)
PLASMA_VOLUMES = re.compile(r"""
    \b(?P<n>\d(?:\.\d+|,\d(?!\d))?|one\ and\ a\ half|one|two|single)\s*(?:-|–)?\s*  # "1.5", "1,5", "single"
    (?:(?:times|×|x|fold)\s*(?:of\s+)?(?:(?:the|her|his|their|its)\s+)?   # "times her", "times of the", "1.3-fold"
      | of\s+(?:the|her|his|their|its)\s+)?                               # "1.2 of her estimated plasma volumes"
    (?:estimated\s+)?(?:circulating\s+)?(?:total\s+)?                  # "estimated circulating"
    (?:plasma\ volumes?|PV|TPV)\b                                        # "plasma volume", "TPV"
    """, re.IGNORECASE | re.VERBOSE)
# one plasma volume told with the exchange: "a single-volume exchange", "one-volume TPE"
SINGLE_VOLUME = re.compile(rf"\b(?:single|one)[-\ ](?:plasma[-\ ])?volume\s+(?:exchanges?|{EXCHANGE_NAME})\b", re.IGNORECASE)
REPLACEMENT_CUE = re.compile(r"\b(replac|substitut|exchanged (?:for|with)|using|with\b|fluid)", re.IGNORECASE)
# an exchange before the cells: "plasmapheresis before leukapheresis", "prior to CAR-T infusion"
BEFORE_CART = re.compile(r"""
    \b(before|prior\ to|preceding|ahead\ of)\b[^.;]{0,60}\b(CAR|infusion|lymphodeplet|leukapheresis)
    """, re.IGNORECASE | re.VERBOSE)
# an exchange for another disease: "for hyperviscosity", "TTP", "anti-HLA desensitisation"
OTHER_INDICATION = re.compile(r"""\b(
    hyperviscosity|thrombotic\ thrombocytopenic|[aic]?TTP\b|myasthenia|Guillain|antibody-mediated\ rejection
  | hypertriglyceridemi|cryoglobulin|desensiti|anti-HLA|Goodpasture|ANCA|neuromyelitis|paraprotein
  | thrombotic\ microangiopathy|TMA\b
    )""", re.IGNORECASE | re.VERBOSE)
WORD_FRACTIONS = {"one and a half": 1.5, "one": 1.0, "two": 2.0, "single": 1.0}


# "the cells were infused 41 days after the last plasmapheresis": the exchange came first
CELLS_AFTER_PE = re.compile(r"\b(infus\w*|administered|given|received)\b[^.;]{0,60}\bafter\b[^.;]*$", re.IGNORECASE)
# A received exchange is told as an event ("was performed", "underwent", "three sessions", "on day 5"),
# not as a general statement ("plasma exchange removes cytokines", "... is needed").
EVENT = re.compile(r"""
    \b(was|were|had|has\ been|have\ been|underwent|undergone|received|performed|started|initiated|given   # "was performed"
      | completed|commenced|began|begun|applied|instituted|undertaken|carried\ out|done|added|followed
      | turned\ to|resorted\ to                                                                        # "we turned to TPE"
      | processed|exchanged|removed|replaced|repeated                                                     # "2.8 L exchanged"
      | sessions?|procedures?|rounds?|courses?|cycles?|runs?|day|D\s?[+]?\d                               # "three sessions", "D5"
    )\b
  | [×x]\s?\d                                                                                           # "×3"
  | \b(?:twice|thrice|(?:\d{1,2}|one|two|three|four|five|six|seven|eight)\s+times)\b                       # "for two times"
  | \b(?:decided|agreed|opted|elected)\ (?:on|for|to\ (?:initiate|start|begin|perform|institute   # "decided to initiate"
      | attempt|try|proceed\ (?:to|with)))\b                                                  # "agreed to attempt"
  | ^[^:()]{1,40}(?:\([^()]{0,60}\))?\s*:                                                                # "TPE: x3", "TPE
    """, re.IGNORECASE | re.VERBOSE)                                                                    #  (centrifugal): 3 March"
# the exchange as what came before an outcome: "After plasma exchange, her fever subsided", "following two TPE sessions"
AFTER_THE_EXCHANGE = re.compile(r"""
    \b(?:after|following)\s+                                    # "After", "following"
    (?:(?:the|a|her|his|their|two|three|four|\d{1,2})\s+)?      # "the", "two"
    (?:\w+\s+)?$                                                # "daily": then the exchange's name
    """, re.IGNORECASE | re.VERBOSE)
# the exchange counted among its sessions, which were held: "First plasma exchange, 2 L", "the second TPE went smoothly"
COUNTED_EXCHANGE = re.compile(rf"\b(?:{ORDINAL})\s+(?:[\w-]+\s+)?$", re.IGNORECASE)
# "the cells were infused", "treated with axi-cel", "treated in 2020 with axi-cel"
INFUSION_CUE = re.compile(r"""\b(
    infus\w*|received|administered|given     # "the cells were infused"
  | treated(?:\s+\w+){0,3}?\s+with          # "treated with", "treated in 2020 with"
  | reinfus\w*                              # "reinfused"
    )\b""", re.IGNORECASE | re.VERBOSE)


CAR_T_LABELS = ("CART", "CART_PRODUCT", "CART_TARGET")


def infusion_start(sentences: list[Span]) -> int | None:
    """Where the narrative first tells of the CAR-T cells being given."""
    for sentence in sentences:
        # not "In the weeks before her CAR T-cell infusion her paraprotein rose": a time before the cells
        if concepts_in(sentence, CAR_T_LABELS) and INFUSION_CUE.search(sentence.text) and not BEFORE_CART.search(sentence.text):
            return sentence.start_char
    return None


def pe_mentions(sentences: list[Span]) -> list[Span]:
    """Plasma exchange the patient received after CAR-T: affirmed, not before the cells, not for another disease.

    A mention counts when it comes after the infusion in the narrative or names the toxicity it treats.
    Several rules ask for the same sentences' mentions: the answer is kept on the document."""
    if not sentences:
        return []
    doc = sentences[0].doc
    key = ("pecrs", "pe_mentions", tuple(s.start for s in sentences))
    if key not in doc.user_data:
        doc.user_data[key] = _pe_mentions(sentences)
    return doc.user_data[key]


# an exchange dated by a diagnosis just told: "Acquired TTP was diagnosed. TPE was started on the day of diagnosis."
AFTER_THE_DIAGNOSIS = re.compile(r"""
    \b(?:the\s+)?                                              # "the"
    (?:day\s+of\s+(?:the\s+)?|same\s+day\s+as\s+the\s+)?       # "day of", "same day as the"
    diagnosis\b(?!\s+of\b)                                    # "diagnosis", not "diagnosis of TTP"
    """, re.IGNORECASE | re.VERBOSE)
DIAGNOSED = re.compile(r"\b(?:was|were)\s+(?:then\s+|finally\s+)?(?:diagnosed|confirmed|made)\b", re.IGNORECASE)


# how many sentences back a diagnosis may be told for an exchange dated by it
DIAGNOSIS_REACH = 3


def _named_indication(sentence: Span, before: list[Span]) -> bool:
    """The exchange's sentence names another disease, or dates the exchange by a diagnosis of one that a sentence
    shortly before affirms ("Acquired TTP was diagnosed. [...] TPE was started on the day of diagnosis"), not one
    ruled out ("TTP was excluded")."""
    if OTHER_INDICATION.search(sentence.text):
        return True
    if not AFTER_THE_DIAGNOSIS.search(sentence.text):
        return False
    return any(not flagged(target(told, m.start(), m.end(), "DIAGNOSIS"), "NEGATED_EXISTENCE", "HYPOTHETICAL")
               for told in before[-DIAGNOSIS_REACH:] if DIAGNOSED.search(told.text)
               for m in OTHER_INDICATION.finditer(told.text))


# a unit's practice over time: "has done plasma exchange for years", "routinely performs", "our experience with"
HABITUAL = re.compile(r"\bfor\s+(?:many\s+|several\s+|\w+\s+)?(?:years|decades)\b|\broutinely\b|\bregularly\b"
                      r"|\bexperience\s+(?:with|in|of)\b|\btimes\s+(?:a|per|each)\s+(?:year|month|week)\b",  # "a dozen times a year"
                      re.IGNORECASE)


def for_another_disease(sentences: list[Span]) -> bool:
    """The account gives the exchange's indication once as another disease ("The TTP was treated with daily plasma
    exchange") and its procedure's sentences do not repeat it; no exchange of it is tied to a toxicity of the cells."""
    # "his PEX was not given for CRS, ICANS or HLH" ties it to none of them; "our service has done plasma exchange
    # for years for myasthenia" tells of the unit's practice, not of this exchange
    told = [(i, s) for i, s in enumerate(sentences) if any(is_affirmed(span) for span in concepts_in(s, "PE"))
            and not HABITUAL.search(s.text)]
    tied = [_indications(s, sentences[:i]) for i, s in told]
    # "She underwent three sessions for hyperviscosity" before the cells, "Her first post-infusion plasma exchange
    # was performed on day +5" after them: an exchange before the cells for another disease says nothing of those after
    infused_at = infusion_start(sentences)
    if infused_at is not None and all(s.start_char < infused_at and _told_before_the_cells(sentences, i)
                                      for (i, s), (other, _) in zip(told, tied) if other) \
            and any(s.start_char > infused_at for i, s in told):
        return False
    return any(other and not toxicity for other, toxicity in tied) and not any(toxicity for _, toxicity in tied)


# a syndrome told as over, right after its name: "CRS had resolved", "the CRS, which had long settled"
TOLD_AS_OVER = re.compile(r"""
    \s*(?:\(\w+\)\s*)?,?\s*(?:which\s+)?(?:had|has|was|having)\s+(?:long\s+|fully\s+|completely\s+|already\s+)?
    (?:been\s+)?(?:resolved|subsided|settled|abated)\b
    """, re.IGNORECASE | re.VERBOSE)
# a syndrome told as what a treatment is for: "for CRS", "to treat cytokine release syndrome"
FOR_IT = re.compile(r"\b(?:for|against|to\s+treat|treating|because\s+of)\s+(?:\w+\s+){0,3}$", re.IGNORECASE)


def _indications(sentence: Span, before: list[Span]) -> tuple[bool, bool]:
    """Whether the exchange of a sentence is tied to another disease, and whether to a toxicity of the cells; a
    sentence naming both ties it to the one named nearer it ("after recovering from grade 2 CRS, he presented on day
    48 with acquired TTP and was treated with plasma exchange": TTP), unless it tells the toxicity as what it treats
    ("apheresis for hyperviscosity before the cells, and again for CRS after them": both)."""
    other = _named_indication(sentence, before)
    text = sentence.doc.text
    # a toxicity told as over is not what the exchange treats: "iTTP well after a mild CRS had resolved, and who
    # responded to plasma exchange"
    toxicities = [c for c in concepts_in(sentence, ("CRS", "ICANS", "HLH")) if is_affirmed(c)
                  and not TOLD_AS_OVER.match(text, c.end_char, sentence.end_char)]
    named = list(OTHER_INDICATION.finditer(sentence.text))
    if not (other and toxicities and named) or \
            any(FOR_IT.search(text[max(sentence.start_char, c.start_char - 40):c.start_char]) for c in toxicities):
        return other, bool(toxicities)
    base = sentence.start_char
    exchanges = [(c.start_char - base, c.end_char - base) for c in concepts_in(sentence, "PE")]

    def nearest(spans: list[tuple[int, int]]) -> int:
        return min(max(a - end, start - b, 0) for a, b in spans for start, end in exchanges)

    to_other = nearest([m.span() for m in named])
    to_toxicity = nearest([(c.start_char - base, c.end_char - base) for c in toxicities])
    return to_other < to_toxicity, to_toxicity <= to_other


def _told_before_the_cells(sentences: list[Span], i: int) -> bool:
    """The i-th sentence, or one beside it, sets its time before the cells ("In the weeks before her CAR T-cell
    infusion ...", "These exchanges were finished nine days before lymphodepletion began")."""
    return any(BEFORE_CART.search(s.text) for s in sentences[max(0, i - 1):i + 2])


def _pe_mentions(sentences: list[Span]) -> list[Span]:
    if for_another_disease(sentences):
        return []
    mentions = []
    infused_at = infusion_start(sentences)
    for sentence in sentences:
        for span in concepts_in(sentence, "PE"):
            if not _affirmed_exchange(span):
                continue
            before = sentence.doc.text[sentence.start_char:span.start_char]
            told_as_event = EVENT.search(sentence.text) or AFTER_THE_EXCHANGE.search(before) or \
                COUNTED_EXCHANGE.search(before)
            # "We turned to plasmapheresis, which our service performs a dozen times a year for myasthenia": the
            # service's other indications, not this exchange's
            other = OTHER_INDICATION.search(sentence.text) and not HABITUAL.search(sentence.text)
            if BEFORE_CART.search(sentence.text) or other or not told_as_event:
                continue
            if CELLS_AFTER_PE.search(sentence.doc.text[sentence.start_char:span.start_char]):
                continue
            treats_toxicity = bool(concepts_in(sentence, ("CRS", "ICANS", "HLH")))
            if infused_at is not None and sentence.start_char < infused_at and not treats_toxicity:
                continue
            mentions.append(span)
    return mentions or _sessions_of_the_articles_exchange(sentences)


# a patient's sessions told without the exchange's name: "three sessions from day 5", "two exchanges on days 6 and 7"
BARE_SESSIONS = re.compile(rf"\b(?:{COUNT})\s+(?:sessions|exchanges)\b(?!\s+of\b)", re.IGNORECASE)


def _sessions_of_the_articles_exchange(sentences: list[Span]) -> list[Span]:
    """In an article whose title names the exchange, a patient's account that counts sessions without naming them
    ("Patient B had a CRS from day 2 ... and three sessions from day 5"), naming no other purification and no other
    disease: the sessions are the exchange's."""
    if not sentences:
        return []
    document = sentences[0].doc.user_data.get(DOCUMENT)
    if document is None or not EXCHANGE_IN_TITLE.search(document.title or ""):
        return []
    found = []
    for sentence in sentences:
        if concepts_in(sentence, "PURIFICATION") or OTHER_INDICATION.search(sentence.text):
            continue
        for match in BARE_SESSIONS.finditer(sentence.text):
            span = sentence.doc.char_span(sentence.start_char + match.start(), sentence.start_char + match.end(),
                                          alignment_mode="expand")
            if span is not None and is_affirmed(span):
                found.append(span)
    return found


EXCHANGE_IN_TITLE = re.compile(rf"\b(?:{EXCHANGE_NAME})\b", re.IGNORECASE)


# a further session, not the exchange as a whole: "a second TPE was not done", "no further plasma exchange"
FURTHER = re.compile(rf"""\b(?:
    {ORDINAL}                                                   # "a second"
  | further|another|additional|more|repeat\w*|last|final        # "no further"
    )\s+(?:\w+\s+)?$                                            # "plasma "
    """, re.IGNORECASE | re.VERBOSE)


# how many words may stand between a denying cue and the exchange it denies ("no patient underwent TPE"); a cue
# further off denies something else ("no complications occurred during the TPE")
DENIAL_REACH = 2


# another session named between the exchange and a denial after it, which the denial is about: "TPE x1 D+3 (2nd
# session D+4 cancelled)"
ANOTHER_SESSION = re.compile(rf"\b(?:{ORDINAL}|\d(?:st|nd|rd|th))\s+(?:session|procedure|exchange|run)\b", re.IGNORECASE)


def _about_another_session(span: Span, modifier) -> bool:
    """Whether a ConText cue after the exchange ``span`` names another session before it ("TPE x1 D+3 (2nd session
    D+4 cancelled)"): the cue is about that session."""
    start = modifier.modifier_span[0]
    return start >= span.end and bool(ANOTHER_SESSION.search(span.doc[span.end:start].text))


def _flagged_for_this_session(span: Span, *categories: str) -> bool:
    """``assertion.flagged``, less the cues about another session named after ``span``."""
    return any(m.category in categories and not _about_another_session(span, m) for m in context_modifiers(span))


# some of the sessions planned, told as held: "Three TPE sessions were planned; the first two were performed on days +5
# and +6, ... and the third was cancelled"
SOME_HELD = re.compile(r"""
    \bthe\s+first\s+(?:two|three|four|five|\d)\s+(?:sessions?\s+|exchanges?\s+|procedures?\s+|of\s+them\s+)?
    (?:were|had\s+been)\s+(?:performed|done|given|carried\s+out|completed|held)\b
    """, re.IGNORECASE | re.VERBOSE)


def _affirmed_exchange(span: Span) -> bool:
    """ConText's ``is_affirmed`` for a mention of the exchange, less the cues about another session; an exchange
    planned is affirmed where the sentence goes on to tell that some of its sessions were held."""
    if not _flagged_for_this_session(span, *NOT_AFFIRMING):
        return True
    sentence = sentence_of(span)
    return not _flagged_for_this_session(span, "NEGATED_EXISTENCE") and \
        bool(SOME_HELD.search(span.doc.text, span.end_char, sentence.end_char))


def _denied(span: Span) -> bool:
    """Whether a negation governing ``span`` is about the exchange itself: a cue after it ("TPE was cancelled",
    "was not performed"), unless another session is named between them, or right before it ("no TPE", "without plasma
    exchange", "none of the patients underwent")."""
    return any(m.category == "NEGATED_EXISTENCE" and not _about_another_session(span, m) and
               (m.modifier_span[0] >= span.end or span.start - m.modifier_span[1] <= DENIAL_REACH)
               for m in context_modifiers(span))


def exchange_denied(sentences: list[Span]) -> bool:
    """The account says the exchange was not done at all ("no TPE was performed at any point", "the exchange was
    cancelled before it started", "no patient underwent TPE"): a denied mention of the exchange, not of a further one."""
    for sentence in sentences:
        for span in concepts_in(sentence, "PE"):
            if _denied(span) and not FURTHER.search(sentence.doc.text[sentence.start_char:span.start_char]):
                return True
    return False


# a next sentence going on about the exchange: "He completed four daily sessions", "2,800 mL were exchanged"
CONTINUATION = re.compile(r"""\b(
    sessions?|runs?|exchanges?|exchanged|replace\w*|plasma\ volumes?|procedures?|apheresis
  | (?:plasma|cell|membrane)\ separators?|plasma\ filters?|centrifug\w*            # the exchange's device
    )\b""", re.IGNORECASE | re.VERBOSE)


CONTINUATION_REACH = 4


def _new_paragraph(before: Span, after: Span) -> bool:
    """Whether a blank line (a paragraph's or a heading's end) comes between two sentences."""
    between = before.doc.text[before.start_char + len(before.text.rstrip()):after.start_char]
    return bool(re.search(r"\n[^\S\n]*\n", between))


def pe_context(sentences: list[Span], mentions: list[Span]) -> list[Span]:
    """Sentences naming the exchange, the sentence after each when it goes on about it ("TPE was started on day 5.
    He completed four daily sessions of 2,800 mL."), and any telling the plasma volumes of its sessions."""
    chosen: list[Span] = []
    for span in mentions:
        sentence = sentence_of(span)
        if sentence not in chosen:
            chosen.append(sentence)
        # "TPE was started on day +6. Each session exchanged one plasma volume. Sessions were performed on day +6
        # and day +7.": the sentences that go on about it, one after the other
        previous = sentence
        for following in [s for s in sentences if s.start_char >= sentence.end_char][:CONTINUATION_REACH]:
            going_on = CONTINUATION.search(following.text)
            # a sentence about another purification ("He also went onto CVVHDF ...") ends the run, unless the
            # exchange comes first in it ("Each processed 1.5 plasma volumes ... while CVVH was paused")
            other = concepts_in(following, "PURIFICATION")
            if other and (not going_on or other[0].start_char - following.start_char < going_on.start()):
                break
            # within the paragraph a sentence about something else ("A catheter was placed.") is passed over
            if not going_on and _new_paragraph(previous, following):
                break
            previous = following
            if going_on and following not in chosen:
                chosen.append(following)
    # plasma volumes per session are only ever the exchange's, wherever the account gives them ("Each session
    # corresponded to about 1.2 of her estimated plasma volumes" below a table, after a sentence on CVVHDF)
    chosen += [s for s in sentences if s not in chosen and PLASMA_VOLUMES.search(s.text) and CONTINUATION.search(s.text)]
    # a section titled by the exchange tells of it throughout ("3. The plasma exchange" over "Machine: Spectra
    # Optia" and "Replacement: 5% albumin and FFP 1:1")
    chosen += [s for s in sentences if s not in chosen and _in_a_section_on_the_exchange(s)]
    return sorted(chosen, key=lambda s: s.start_char)


# a section's title naming the exchange and little else: "3. The plasma exchange", "TPE procedure", "Apheresis details"
EXCHANGE_SECTION = re.compile(rf"""
    ^\W*(?:\d{{1,2}}[.)]?\s*)?(?:the\s+)?(?:therapeutic\s+)?{EXCHANGE_NAME}
    (?:\s+(?:procedures?|technique|details|sessions?|course|prescription|treatment))?\s*:?\s*$
    """, re.IGNORECASE | re.VERBOSE)


def _in_a_section_on_the_exchange(sentence: Span) -> bool:
    section = section_of(sentence)
    return section is not None and section.kind not in ("title", "abstract") and bool(EXCHANGE_SECTION.match(section.title))


def plasma_exchange(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    mentions = pe_mentions(sentences)
    if not mentions:
        return []
    pe_sentences = pe_context(sentences, mentions)
    findings = []
    findings += _sessions(pe_sentences)
    findings += _start_day(pe_sentences, mentions, patient)
    findings += _volumes(pe_sentences)
    findings += _replacement(pe_sentences)
    return findings


# a count summing up several patients: "median 3 sessions", "a mean of 4.2 procedures"
GROUP_MEASURE = re.compile(r"\b(?:median|mean|average)\s*(?:of\s+)?(?:\(\w+\)\s*)?$", re.IGNORECASE)
# the upper bound of a range, a spread over patients: "patients received between one and five sessions", "2 to 5"
_COUNT_WORD = r"(?:\d{1,2}(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten)"
# the first figure of a range, right before the second: "2-3 sessions", "between 1.0 and 1.5 plasma volumes" (a range is
# a protocol's or a group's, no session's)
RANGE_BEFORE = re.compile(rf"\bbetween\s+{_COUNT_WORD}\s+and\s+$|\b{_COUNT_WORD}\s*(?:to|-|–)\s*$", re.IGNORECASE)


TREATMENTS = ("PE", "TOCILIZUMAB", "DRUG", "STEROID")


def _counts_the_exchanges(sentence: Span, at: int) -> bool:
    """Whether a count without a noun ("so she had three in all") counts the exchanges: the treatment named last
    before it is the exchange, not a drug ("tocilizumab on days 2, 3 and 4, three in all")."""
    before = [c for c in concepts_in(sentence, TREATMENTS) if c.end_char <= sentence.start_char + at]
    return bool(before) and before[-1].label_ == "PE"


def _sessions(pe_sentences: list[Span]) -> list[Finding]:
    best = None
    for sentence in pe_sentences:
        text = sentence.text
        for match in SESSIONS.finditer(text):
            raw = next(match.group(g) for g in ("n", "x", "days", "daily", "adverb", "short", "total") if match.group(g))
            value = count_value(raw)
            if match.group("total") and not _counts_the_exchanges(sentence, match.start()):
                continue
            if value and PE_SESSIONS.admits(value) and not _not_held(sentence, *match.span()) \
                    and not GROUP_MEASURE.search(text, max(0, match.start() - 20), match.start()) \
                    and not RANGE_BEFORE.search(text, max(0, match.start() - 30), match.start()):
                candidate = (value, sentence.start_char + match.start(), sentence.start_char + match.end())
                if best is None or candidate[0] > best[0]:
                    best = candidate
    if best is not None:
        stated = Finding("pe_sessions", str(best[0]), best[1], best[2], "purification.pe_sessions")
        # a session held that the count leaves out ("Two infusions, one exchange" over "a second session was given
        # on D+5"): the ordinal, a lower bound, beats a smaller stated count
        held = _ordinal_sessions_held(pe_sentences)
        return held if held and int(held[0].value) > best[0] else [stated]
    # a list of days may leave out a session an ordinal tells of ("Sessions were performed on day +6 and day +7. ...
    # the third and final session was performed on day +9"): the larger bound
    lower_bounds = _sessions_from_days(pe_sentences) + _sessions_from_repeat(pe_sentences) + \
        _sessions_from_ordinals(pe_sentences)
    return [max(lower_bounds, key=lambda finding: int(finding.value))] if lower_bounds else []


# an ordinal session told as held: "a second session was given on D+5" (not "A fourth exchange was not ordered", "A
# third session had been foreseen")
HELD_AFTER = re.compile(r"""
    \s+(?:(?:of\s+)?[\w-]+\s+){0,2}?(?:was|were)\s+(?:then\s+|also\s+)?         # "was", "of TPE was then"
    (?:given|performed|done|carried\ out|held|run|undertaken|delivered|completed)\b  # "given"
    """, re.IGNORECASE | re.VERBOSE)


def _ordinal_sessions_held(pe_sentences: list[Span]) -> list[Finding]:
    """The highest ordinal session told as held ("a second session was given on D+5"), a lower bound of the count."""
    best = None
    for sentence in pe_sentences:
        for match in ORDINAL_SESSION.finditer(sentence.text):
            value = ORDINALS[match.group("o").lower()]
            if value >= 2 and _told_as_held(sentence, match) and (best is None or value > best[0]):
                best = (value, sentence.start_char + match.start(), sentence.start_char + match.end())
    return [] if best is None else \
        [Finding("pe_sessions", str(best[0]), best[1], best[2], "purification.pe_sessions_ordinal")]


def _told_as_held(sentence: Span, match: re.Match) -> bool:
    return bool(HELD_AFTER.match(sentence.text, match.end())) and not _not_held(sentence, *match.span())


def _sessions_from_ordinals(pe_sentences: list[Span]) -> list[Finding]:
    """"after the second exchange", "TPE session 3": at least two, three; "a third exchange was cancelled": two. A lower
    bound that a stated total elsewhere beats."""
    best = None
    for sentence in pe_sentences:
        for match in [*ORDINAL_SESSION.finditer(sentence.text), *NUMBERED_SESSION.finditer(sentence.text)]:
            value = ORDINALS[match.group("o").lower()] if "o" in match.groupdict() else int(match.group("n"))
            if _not_held(sentence, *match.span()):  # "a third exchange was considered and rejected": two were held
                value -= 1
            if value >= 2:
                candidate = (value, sentence.start_char + match.start(), sentence.start_char + match.end())
                if best is None or candidate[0] > best[0]:
                    best = candidate
    if best is None:
        return []
    return [Finding("pe_sessions", str(best[0]), best[1], best[2], "purification.pe_sessions_ordinal", weak=True)]


# a verb telling that sessions took place: "performed on days 3, 4 and 5"
DONE = re.compile(r"""\b(
    performed|done|carried\ out|given|undertaken     # "performed on days 3, 4 and 5"
  | received|underwent|took\ place                   # "underwent TPE on day 2"
  | reali[sz]ed|conducted|administered|instituted     # "TPE was realized on days 4, 5 and 6"
    )\b""", re.IGNORECASE | re.VERBOSE)
# the sessions named just before their days: "The first session was performed on day 5 and the second on day 6"
SESSIONS_BEFORE_DAYS = re.compile(rf"\b{COUNTED}\b", re.IGNORECASE)
SESSIONS_BEFORE_DAYS_REACH = 40


def _sessions_from_days(pe_sentences: list[Span]) -> list[Finding]:
    """"performed on day +5 and day +6" or "on days 3, 4 and 5": one session a day named; in a sentence going on
    about the exchange, the sessions named just before their days ("The first session was run on day 5 and the second
    on day 6")."""
    for sentence in pe_sentences:
        named = bool(concepts_in(sentence, "PE"))
        for clause in re.finditer(r"[^;]+", sentence.text):
            text = clause.group(0)
            series = day_series(text)
            if not series:
                continue
            days, start, end = series[0]
            if not named and not SESSIONS_BEFORE_DAYS.search(text[max(0, start - SESSIONS_BEFORE_DAYS_REACH):start]):
                continue
            # "performed on days 3, 4 and 5"; or, tersely, the exchange's name and its days: "PE on D3 and D4"; or the
            # days heading an entry of one session each: "Days 5, 6 and 7: one TPE session each day"
            terse = any(0 <= start - (m.end_char - sentence.start_char - clause.start()) <= 4
                        for m in concepts_in(sentence, "PE"))
            each_day = not re.search(r"\w", text[:start]) and re.match(r"\s*:", text[end:]) and re.search(DOSING, text)
            if not terse and not each_day and not DONE.search(text):
                continue
            offset = sentence.start_char + clause.start()
            # a list in a sentence that does not name the exchange is the weaker reading
            return [Finding("pe_sessions", str(len(days)), offset + start, offset + end, "purification.pe_session_days",
                            weak=not named)]
    return []


# the exchange begun on one day and repeated on others: "started on D+4 and repeated on D+5"
REPEATED_ON = re.compile(r"""
    \b(?:started|begun|began|initiated|commenced|performed|done)\s+(?:the\s+same\s+\w+,?\s+|that\s+\w+,?\s+)?  # "started
    on\s+[^;.]{1,25}?                                                   #  the same morning, on day +4"
    ,?\s+and\s+(?:was\s+|then\s+)?repeated\s+on\s+[^;.]{1,40}
    """, re.IGNORECASE | re.VERBOSE)


# the exchange repeated a number of times after the first: "started on D+5 and repeated once" (two sessions),
# "repeated twice", "repeated on the next day"
REPEATED_TIMES = re.compile(rf"""
    \brepeated\s+(?:(?P<n>once|twice|thrice)|(?P<times>{COUNT})\s+(?:more\s+)?times
                   |(?P<next>(?:on\s+)?the\s+(?:next|following)\s+day))\b
    """, re.IGNORECASE | re.VERBOSE)


# the days an exchange was repeated on: "repeated at H+78 and H+102", "and again on days 6 and 7"
REPEATED_AT = re.compile(r"\b(?:repeated|again)\s+(?:on|at)\s+[^;.]{1,50}", re.IGNORECASE)


def _sessions_from_repeat(pe_sentences: list[Span]) -> list[Finding]:
    """One session on each day of an exchange begun and then repeated, or the first and its repeats, in a sentence
    naming the exchange."""
    for sentence in pe_sentences:
        mentions = concepts_in(sentence, "PE")
        if not mentions:
            continue
        for match in REPEATED_ON.finditer(sentence.text):
            days = {day for day, _, _ in find_days(match.group(0))} | {d for series in day_series(match.group(0))
                                                                       for d in series[0]}
            if len(days) >= 2 and PE_SESSIONS.admits(len(days)):
                return [Finding("pe_sessions", str(len(days)), sentence.start_char + match.start(),
                                sentence.start_char + match.end(), "purification.pe_sessions_repeated")]
        for match in REPEATED_TIMES.finditer(sentence.text):
            if not any(in_one_clause(sentence.text, m.start_char - sentence.start_char, match.start()) for m in mentions):
                continue
            repeats = 1 if match.group("next") else count_value(match.group("n") or match.group("times"))
            if repeats and PE_SESSIONS.admits(repeats + 1):
                return [Finding("pe_sessions", str(repeats + 1), sentence.start_char + match.start(),
                                sentence.start_char + match.end(), "purification.pe_sessions_repeated")]
    return []


# ConText target type of a count of sessions (context_rules.json may name it in allowed_types)
SESSION_COUNT_TARGET = "PE_SESSIONS"


def _not_held(sentence: Span, start: int, end: int) -> bool:
    """Whether ConText finds the session or count at ``start:end`` of ``sentence``'s text negated or only planned ("a
    third session was cancelled", "a sixth session was planned", "a third exchange had been scheduled, but it was
    cancelled")."""
    return _flagged_for_this_session(target(sentence, start, end, SESSION_COUNT_TARGET), "NEGATED_EXISTENCE", "HYPOTHETICAL")


def _sessions_not_held(sentence: Span) -> list[tuple[int, int, bool]]:
    """(start, end) in ``sentence``'s text of each mention of a session, marked whether it was held: a session
    cancelled or only planned ("a fourth session was scheduled for day 7 but was cancelled") was not."""
    return [(m.start(), m.end(), not _not_held(sentence, m.start(), m.end()))
            for m in CONTINUATION.finditer(sentence.text)]


def _named_after_a_session_not_held(sessions: list[tuple[int, int, bool]], at: int) -> bool:
    """Whether the session named last before ``at`` was one not held ("a second session planned for D+4 was
    cancelled")."""
    before = [held for start, _, held in sessions if start < at]
    return bool(before) and not before[-1]


def _day_of_session_not_held(sessions: list[tuple[int, int, bool]], day_start: int) -> bool:
    """Whether the session named last before a day (at ``day_start``) was one not held; of a day heading its entry
    ("27 March: a third exchange had been scheduled, but it was cancelled"), the first session after it."""
    if any(start < day_start for start, _, _ in sessions):
        return _named_after_a_session_not_held(sessions, day_start)
    after = [held for start, _, held in sessions if start >= day_start]
    return bool(after) and not after[0]


# a verb of doing before the days it was done on: "performed on days 9, 10 and 11", "started on day +5"
DONE_ON = re.compile(r"""
    \b(?:performed|started|initiated|begun|began|commenced|done|carried\ out|undertaken)   # "performed"
    \s+(?:at\s+(?:about\s+|around\s+|approximately\s+)?                                  # "at about two o'clock"
         (?:\d{1,2}(?:[:.]\d{2})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|midnight)
         (?:\s*(?:o['’]clock|[ap]\.?m\.?|h(?:ours|rs)?))?\s+)?
    (?:on\s+)?                                                                           # "on"
    """, re.IGNORECASE | re.VERBOSE)


DONE_ON_REACH = 12  # characters from a verb of doing to the first day it dates ("done on D+5")
# a day heading a timeline's entry, which dates what follows it, not the verb before it: "anakinra started D+13 -
# extubated"
HEADS_AN_ENTRY = re.compile(r"\s*[:–—-]\s")


def _mentions_in(span: Span, mentions: list[Span]) -> list[Span]:
    """The mentions within ``span``, a sentence or a patient's clause of one ("Case 1: ...; TPE was started on
    D+5; ... Case 2: ...")."""
    return [m for m in mentions if span.start_char <= m.start_char < span.end_char]


def _start_day(pe_sentences: list[Span], mentions: list[Span], patient: PatientContext) -> list[Finding]:
    for sentence in pe_sentences:
        if not START_CUE.search(sentence.text):
            continue
        if _dates_a_sample_by_a_later_exchange(sentence, mentions):
            continue
        sessions = _sessions_not_held(sentence)
        # not the day of a session not held, named before it: "a second session planned for D+4 was cancelled"
        days = [d for d in days_in(sentence, patient.infusion_date, patient.hours_from_infusion)
                if not _named_after_a_session_not_held(sessions, d[1])]
        if days:
            in_sentence = _mentions_in(sentence, mentions)
            anchor = in_sentence[0].start_char - sentence.start_char if in_sentence else 0
            # the days the exchange was done on, where the sentence says so, before days it was asked for:
            # "TPE was requested on day 8 and performed on days 9, 10 and 11"; the nearest such to the exchange's
            # mention, not another event's ("CRS began on D+2 and persisted, so TPE was started on D+5")
            done = [d for d in days if not HEADS_AN_ENTRY.match(sentence.text, d[2])
                    and any(d[1] - m.end() <= DONE_ON_REACH and d[1] >= m.end() for m in DONE_ON.finditer(sentence.text))
                    and in_one_clause(sentence.text, anchor, d[1])]
            # of the others, the nearest in the exchange's clause: "grade 3 CRS from day 6; TPE x3 from day 8"; not
            # days set apart from it by a semicolon or a parenthesis ("Tocilizumab given on day +2 and day +3 (...; the
            # physicians preferred to start TPE)"), unless the day heads the sentence ("D+5 ...; ICU; first PEX")
            own = [d for d in days if in_one_clause(sentence.text, anchor, d[1])] or \
                [d for d in days if not _set_apart(sentence.text, anchor, d[1]) or not re.search(r"\w", sentence.text[:d[1]])]
            if not (done or own):
                continue
            nearest = min(done or own, key=lambda d: abs(d[1] - anchor))
            day, start, end = _first_of_its_list(sentence.text, nearest)
            return [Finding("pe_start_day", str(day), sentence.start_char + start, sentence.start_char + end,
                            "purification.pe_start_day")]
    return []


def _set_apart(text: str, a: int, b: int) -> bool:
    """Whether a semicolon or a parenthesis's edge stands between two places of a sentence."""
    between = text[min(a, b):max(a, b)]
    return ";" in between or between.count("(") != between.count(")")


def _first_of_its_list(text: str, day: tuple[int, int, int]) -> tuple[int, int, int]:
    """A day as the start of the exchanges: the first of the list it is in ("On D+4 and D+5 ... was performed": 4)."""
    for days, start, end in day_series(text):
        if start <= day[1] < end and days[0] != day[0]:
            return days[0], start, end
    return day


def exchange_volume(quantity: Quantity) -> float | None:
    """A quantity as the volume of one exchange, in the registry's unit; None when it is no volume or out of bounds."""
    if quantity.unit not in ("mL", "L"):
        return None
    ml = quantity.to(PE_VOLUME.unit)
    return ml if PE_VOLUME.admits(ml) else None


def plasma_volumes(number: str | float) -> float | None:
    """How many plasma volumes a session exchanged, from the number as written ("1.5", "one and a half") or read."""
    value = WORD_FRACTIONS.get(number.lower()) or float(number.replace(",", ".")) if isinstance(number, str) else number
    return value if PLASMA_VOLUMES_FIELD.admits(value) else None


# a volume summed over the sessions, which is no session's volume: "a total of 7.8 L ... over the three sessions",
# "a cumulative 9 L", "8 L in total"
SUM_BEFORE = re.compile(r"\b(?:total|cumulative(?:ly)?|combined|overall)\s+(?:volume\s+)?(?:of\s+)?(?:about\s+|approximately\s+)?$",
                        re.IGNORECASE)
SUM_AFTER = re.compile(rf"""^[^.;]{{0,60}}?(?:
    \b(?:in\s+total|altogether|overall)\b                                               # "8 L in total"
  | \b(?:over|across)\s+(?:the\s+|all\s+|both\s+)?(?:{COUNT}\s+)?(?:sessions|exchanges|procedures)\b  # "over
    )""", re.IGNORECASE | re.VERBOSE)                                                   #  the three sessions"


def _summed(sentence: Span, quantity) -> bool:
    text, at, end = sentence.text, quantity.start - sentence.start_char, quantity.end - sentence.start_char
    return bool(SUM_BEFORE.search(text[:at]) or SUM_AFTER.match(text[end:]))


def _volumes(pe_sentences: list[Span]) -> list[Finding]:
    findings = []
    for sentence in pe_sentences:
        if not any(f.field == "pe_volume_ml" for f in findings):
            for quantity in quantities_in(sentence):
                ml = exchange_volume(quantity)
                if ml is not None and _summed(sentence, quantity):
                    continue
                if ml is not None:
                    findings.append(Finding("pe_volume_ml", f"{ml:g}", quantity.start, quantity.end, "purification.pe_volume"))
                    break
        if not any(f.field == "pe_plasma_volumes" for f in findings):
            for match in PLASMA_VOLUMES.finditer(sentence.text):
                if RANGE_BEFORE.search(sentence.text[:match.start()]):
                    continue
                value = plasma_volumes(match.group("n"))
                if value is not None:
                    findings.append(Finding("pe_plasma_volumes", f"{value:g}", sentence.start_char + match.start(),
                                            sentence.start_char + match.end(), "purification.plasma_volumes"))
                    break
            single = SINGLE_VOLUME.search(sentence.text)
            if single and not any(f.field == "pe_plasma_volumes" for f in findings):
                findings.append(Finding("pe_plasma_volumes", "1", sentence.start_char + single.start(),
                                        sentence.start_char + single.end(), "purification.plasma_volumes"))
    return findings


SAME_AS_PREVIOUS = "=previous"
# "the same replacement scheme", "identical settings": the previous patient's fluid
SAME_FLUID = re.compile(r"""
    \b(same|identical|similar)\s+(replacement|fluid|scheme|regimen|protocol|settings)\b
    """, re.IGNORECASE | re.VERBOSE)


def replacement_value(fluids: set[str]) -> str:
    """The replacement fluid of the exchanges given one or both fluids (the FLUID concepts): "FFP+albumin"."""
    return "FFP+albumin" if len(fluids) > 1 else next(iter(fluids))


# the plasma taken out, not given: "each exchanging 3 L of plasma", "removing her plasma", "processed 2,800 mL of plasma"
PLASMA_TAKEN_OUT = re.compile(r"""
    \b(?:exchang|remov|process|withdr[ae]w)\w*\s+
    (?:(?:about|approximately|around|~)\s*)?(?:[\d.,]+\s*(?:m?l|litres?|liters?)\s+of\s+)?
    (?:(?:the|her|his|their)\s+)?$
    """, re.IGNORECASE | re.VERBOSE)


def _plasma_given(span: Span, cued: bool) -> bool:
    """"plasma" alone is a fluid only where replacement is spoken of, and not as the plasma volume, the exchange, a
    level in it or the plasma taken out."""
    text = span.doc.text
    before = text[max(0, span.start_char - 60):span.start_char]
    after = text[span.end_char:span.end_char + 25]
    return cued and not re.match(r"\s*(volume|exchange|level|concentration)", after, re.I) \
        and not PLASMA_TAKEN_OUT.search(before) and not TAKEN_OUT_AFTER.match(after) \
        and not (VOLUME_OF.search(before) and not REPLACED_WITH_VOLUME.search(before))


# the plasma taken out, told after it: "2,800 mL plasma removed", "plasma was exchanged"
TAKEN_OUT_AFTER = re.compile(r"\s*(?:was\s+|were\s+)?(?:removed|taken\s+out|withdrawn|exchanged|processed)\b", re.IGNORECASE)
# an amount of the plasma itself, the amount exchanged: "using 40 mL/kg of plasma per session, replaced with albumin";
# not an amount of the fluid put back ("replaced with 2 L of plasma")
VOLUME_OF = re.compile(r"[\d.,]+\s*(?:m?l|litres?|liters?|cc)(?:\s*/\s*kg)?\s+of\s+$", re.IGNORECASE)
REPLACED_WITH_VOLUME = re.compile(r"\b(?:replac\w*|substitut\w*|with|by)\s+(?:about\s+|approximately\s+)?[\d.,]+\s*\S+\s+of\s+$",
                                  re.IGNORECASE)


def _replacement(pe_sentences: list[Span]) -> list[Finding]:
    fluids: dict[str, Span] = {}
    for sentence in pe_sentences:
        cued = bool(REPLACEMENT_CUE.search(sentence.text))
        for span in concepts_in(sentence, "FLUID"):
            if not is_affirmed(span):  # "fresh frozen plasma was not necessary", "in preference to albumin"
                continue
            if span.text.lower() == "plasma" and not _plasma_given(span, cued):
                continue
            fluids.setdefault(span.id_, span)
    if not fluids:
        for sentence in pe_sentences:
            same = SAME_FLUID.search(sentence.text)
            if same:
                return [Finding("pe_replacement", SAME_AS_PREVIOUS, sentence.start_char + same.start(),
                                sentence.start_char + same.end(), "purification.pe_replacement_same")]
        return []
    value = replacement_value(set(fluids))
    spans = sorted(fluids.values(), key=lambda s: s.start_char)
    return [Finding("pe_replacement", value, spans[0].start_char, spans[-1].end_char if sentence_of(spans[-1]) == sentence_of(spans[0]) else spans[0].end_char,
                    "purification.pe_replacement")]


def other_purification(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The purifications given besides the exchange. A short name repeating the end of a longer one named before
    refers back to it ("continuous veno-venous haemodiafiltration ... the haemodiafiltration circuit")."""
    findings = {}
    named: list[str] = []
    for sentence in sentences:
        for span in concepts_in(sentence, "PURIFICATION"):
            if not is_affirmed(span):
                continue
            short = span.text.casefold()
            if any(longer != short and longer.endswith(" " + short) for longer in named):
                continue
            named.append(short)
            if span.id_ not in findings:
                findings[span.id_] = Finding("other_purification", span.id_, span.start_char, span.end_char,
                                             "purification.other_purification")
    return list(findings.values())


DAILY = re.compile(r"\b(consecutive days|daily|once a day|every day|each day|on successive days)\b", re.IGNORECASE)
OWN_DAY_DISTANCE = 40


# between a concentration and the day it was measured on: "71 mg/L on day 7", "6 900 ng/mL on the morning of day 7"
MEASURED_ON = re.compile(r"\s*(?:on|at|by)\s+(?:the\s+(?:morning|evening|afternoon|night)\s+of\s+)?", re.IGNORECASE)
CONCENTRATIONS = ("g/L", "mol/L")


def _measurement_days(sentence: Span) -> set[int]:
    """Where in ``sentence`` (offsets in its text) a day stands that dates a concentration told right before it: the
    day of a laboratory value, not of an exchange ("C-reactive protein was 286 mg/L before the first exchange and
    71 mg/L on day 7")."""
    starts = set()
    for quantity in quantities_in(sentence):
        told_on = MEASURED_ON.match(sentence.doc.text, quantity.end)
        if told_on and any(quantity.convertible_to(unit) for unit in CONCENTRATIONS):
            starts.add(told_on.end() - sentence.start_char)
    return starts


# a session named as the time of something else: "during the second session", "after each run"
SESSION_AS_TIME = re.compile(r"\b(?:during|after|before|following|since|until|by|at|between|within)\s+"
                             r"(?:(?:the|each|every|a|one)\s+)?(?:[\w-]+\s+)?$", re.IGNORECASE)


def _sessions_told_as_events(sentence: Span) -> bool:
    """The sentence goes on about the exchange itself ("Sessions were performed on day +6 and day +7"), not only
    about what happened at the time of one."""
    return any(not SESSION_AS_TIME.search(sentence.text[:m.start()]) for m in CONTINUATION.finditer(sentence.text))


def _dates_a_sample_by_a_later_exchange(sentence: Span, mentions: list[Span]) -> bool:
    """"It was 720 ng/L on the morning of D+5, before the second exchange": a value's sample, dated by an exchange
    that is not the first; its day is no start of the exchanges."""
    named = _mentions_in(sentence, mentions)
    if not named or not quantities_in(sentence):
        return False
    times = [EXCHANGE_AS_TIME.search(sentence.text[:m.start_char - sentence.start_char]) for m in named]
    return all(t is not None and not FIRST_SESSION.search(t.group()) for t in times)


# "before the second", "after the second and last": an exchange named as the time of something else
EXCHANGE_AS_TIME = re.compile(r"\b(?:during|after|before|following|since|until|by|at|between|within)\s+"
                              r"(?:(?:the|each|every|a|one)\s+)?(?:[\w-]+\s+){0,3}$", re.IGNORECASE)
FIRST_SESSION = re.compile(r"\b(?:first|initial|1st)\b", re.IGNORECASE)


def _reports_markers(sentence: Span) -> bool:
    """The sentence gives a marker's value: its days date samples."""
    return bool(concepts_in(sentence, "MARKER")) and bool(quantities_in(sentence))


def exchange_days(sentences: list[Span], patient: PatientContext, in_hours: bool = False) -> list[int]:
    """Days after infusion on which exchanges took place: a start day and a daily count give the run
    ("from day 4, once daily for three consecutive days" is days 4-6); otherwise the days named next to
    an exchange mention, or in the sentence that goes on about it. ``in_hours``: the hours after infusion an account
    counting hours gives them at ("TPE began at H+54, and was repeated at H+78 and H+102")."""
    mentions = pe_mentions(sentences)
    if not mentions:
        return []
    context = pe_context(sentences, mentions)
    found = {} if in_hours else {f.field: f for f in plasma_exchange(sentences, patient)}
    if "pe_start_day" in found and "pe_sessions" in found and any(DAILY.search(s.text) for s in context):
        start, count = int(found["pe_start_day"].value), int(found["pe_sessions"].value)
        return list(range(start, start + count))
    days = set()
    for sentence in context:
        named = _mentions_in(sentence, mentions)
        held = [m for m in named if not _not_held(sentence, m.start_char - sentence.start_char,
                                                        m.end_char - sentence.start_char)]
        if named and not held:
            continue  # "27 March: a third exchange had been scheduled, but it was cancelled": no exchange that day
        anchors = [m.start_char - sentence.start_char for m in held]
        if anchors:  # "... started on D+4, and a second session was given on D+5": a held session dates its own day
            anchors += [m.start() for m in ORDINAL_SESSION.finditer(sentence.text) if _told_as_held(sentence, m)]
        if _reports_markers(sentence) and all(SESSION_AS_TIME.search(sentence.text, 0, a) for a in anchors) or \
                _dates_a_sample_by_a_later_exchange(sentence, held):
            # "On day 6, the morning after the second session, IL-6 had fallen to 310 pg/mL", "IL6 410 pg/mL ... (all
            # drawn D+6, the morning after the second exchange)": a sample's day, an exchange named only as its time
            continue
        if not anchors and not _sessions_told_as_events(sentence):
            continue  # "Norepinephrine was weaned during the second session and stopped on D+5": a session as a time
        # "A fourth session was scheduled for day 7 but was cancelled": no exchange that day
        sessions = [] if anchors else _sessions_not_held(sentence)
        near = [(0, len(sentence.text))] if not anchors else [(a - OWN_DAY_DISTANCE, a + OWN_DAY_DISTANCE) for a in anchors]
        # "TPE began at H+54 ..., and was repeated at H+78 and H+102", "Three sessions of TPE, each of one plasma
        # volume ..., were done on D+5, D+6 and D+7": the days its own verb dates, in its clause
        for verb in [*REPEATED_AT.finditer(sentence.text), *DONE_ON.finditer(sentence.text)]:
            if any(in_one_clause(sentence.text, a, verb.start()) for a in anchors):
                near.append((verb.start(), verb.end() + (0 if verb.re is REPEATED_AT else DONE_ON_REACH)))
        # "performed on day +5 and again on day +6": a series that starts near the mention is all its days
        for _, start, end in day_series(sentence.text):
            if any(lo <= start <= hi for lo, hi in near):
                near.append((start, end))
        measured = _measurement_days(sentence)
        times = hours_in(sentence) if in_hours else days_in(sentence, patient.infusion_date, patient.hours_from_infusion)
        for day, start, _ in times:
            # "... within 72 hours of the first PEX, and the CRS resolved by D+10": another event's day, in its clause
            own_clause = not anchors or any(in_one_clause(sentence.text, a, start) for a in anchors)
            if day >= 0 and any(lo <= start <= hi for lo, hi in near) and start not in measured and own_clause \
                    and not _day_of_session_not_held(sessions, start):
                days.add(day)
    if not days and "pe_start_day" in found and found.get("pe_sessions", found["pe_start_day"]).value == "1":
        days.add(int(found["pe_start_day"].value))  # one session, told apart from its day
    return sorted(days)


# -- table cells --------------------------------------------------------------------------------------------------
# a header giving volumes in litres: "TPE volume (L)", "Volume exchanged, litres"
LITRES_HEADER = re.compile(r"\(\s*l\s*\)|\bliters?\b|\blitres?\b|(?-i:(?<![\w/-])L\b)", re.IGNORECASE)


def sessions_cell(cell: Cell) -> list[Finding]:
    count = cell.count()
    admitted = count is not None and PE_SESSIONS.admits(count)
    return [cell.finding("pe_sessions", str(count), "count")] if admitted else []


def start_day_cell(cell: Cell) -> list[Finding]:
    """A start day column, "D+4"; under "Days of TPE" the cell lists the days of the exchanges, the first its start
    and as many sessions as days: "D4-D6" is three, "D4, D5" two."""
    day = cell.integer()
    found = [cell.finding("pe_start_day", str(day), "count")] if day is not None else []
    if found and DAYS_OF_EXCHANGE_HEADER.search(cell.header):
        days = _days_listed(cell.text)
        if days and days[0] == day and PE_SESSIONS.admits(len(days)):
            found.append(cell.finding("pe_sessions", str(len(days)), "count"))
    return found


# a column of the days the exchanges were done on: "Days of TPE", "TPE days"
DAYS_OF_EXCHANGE_HEADER = re.compile(rf"\bdays\s+of\s+(?:{EXCHANGE_NAME}|exchanges?)\b|\b(?:{EXCHANGE_NAME})\s+days\b",
                                     re.IGNORECASE)
CELL_DAY_RANGE = re.compile(r"^\s*(?:day|d)?\s*\+?(\d{1,3})\s*(?:-|–|to)\s*(?:day|d)?\s*\+?(\d{1,3})\s*$", re.IGNORECASE)
CELL_DAY_LIST = re.compile(r"^\s*(?:(?:day|d)?\s*\+?\d{1,3}\s*(?:,|and|&|;)?\s*)+$", re.IGNORECASE)


def _days_listed(text: str) -> list[int]:
    """The days a cell lists: "D4-D6" (a range) or "D4, D5, D7"; none for anything else."""
    span = CELL_DAY_RANGE.match(text)
    if span:
        first, last = int(span.group(1)), int(span.group(2))
        return list(range(first, last + 1)) if 0 <= last - first <= 10 else []
    return [int(n) for n in re.findall(r"\d{1,3}", text)] if CELL_DAY_LIST.match(text) else []


def volume_cell(cell: Cell) -> list[Finding]:
    """A volume column: the unit the cell writes, else the header's (mL or litres); a cell in plasma volumes
    ("1.5 PV") gives those instead."""
    if PLASMA_VOLUMES.search(cell.text):
        return plasma_volumes_cell(cell)
    written = find_quantities(cell.text, cell.start)
    number = cell.number()
    if written:
        quantity = written[0]
    elif number is not None:
        quantity = Quantity(number, "L" if LITRES_HEADER.search(cell.header) else PE_VOLUME.unit, cell.start, cell.end)
    else:
        return []
    ml = exchange_volume(quantity)
    return [cell.finding("pe_volume_ml", f"{ml:g}", "volume")] if ml is not None else []


# a cell giving a volume and, in brackets, the plasma volumes it was ("3.6 (1.0)" under "Volume per procedure, L
# (plasma volumes)")
VOLUME_AND_PLASMA_VOLUMES = re.compile(r"""
    ^\s*(?P<volume>\d+(?:[.,]\d+)?)\s*                 # "3.6"
    \(\s*(?P<pv>\d(?:[.,]\d+)?)\s*(?:PV)?\s*\)\s*$    # "(1.0)", "(1.2 PV)"
    """, re.IGNORECASE | re.VERBOSE)


def plasma_volumes_cell(cell: Cell) -> list[Finding]:
    """A plasma volumes column ("1.5", "1.0 PV"), or a volume column's cell in plasma volumes; a column of both
    ("Volume per procedure, L (plasma volumes)": "3.6 (1.0)") gives both."""
    both = VOLUME_AND_PLASMA_VOLUMES.match(cell.text)
    if both and re.search(r"\bvolume\b", cell.header, re.IGNORECASE):
        unit = "L" if LITRES_HEADER.search(cell.header) else PE_VOLUME.unit
        ml = exchange_volume(Quantity(float(both.group("volume").replace(",", ".")), unit, cell.start, cell.end))
        value = plasma_volumes(both.group("pv").replace(",", "."))
        return ([cell.finding("pe_volume_ml", f"{ml:g}", "volume")] if ml is not None else []) + \
            ([cell.finding("pe_plasma_volumes", f"{value:g}", "plasma_volumes")] if value is not None else [])
    match = PLASMA_VOLUMES.search(cell.text)
    number = match.group("n") if match else cell.number()
    value = plasma_volumes(number) if number is not None else None
    return ([cell.finding("pe_plasma_volumes", f"{value:g}", "plasma_volumes")] if value is not None else []) + \
        _written_volume(cell)


def _written_volume(cell: Cell) -> list[Finding]:
    """The volume a cell in plasma volumes also writes with its own unit: "2,900 mL" of "1.0 PV (2,900 mL)"."""
    volumes = [ml for ml in map(exchange_volume, find_quantities(cell.text, cell.start)) if ml is not None]
    return [cell.finding("pe_volume_ml", f"{volumes[0]:g}", "volume")] if len(volumes) == 1 else []


def replacement_cell(cell: Cell) -> list[Finding]:
    fluids = {span.id_ for span in cell.concepts("FLUID")}
    return [cell.finding("pe_replacement", replacement_value(fluids), "replacement")] if fluids else []


def other_purification_cell(cell: Cell) -> list[Finding]:
    return [cell.finding("other_purification", value, "purification")
            for value in sorted({span.id_ for span in cell.concepts("PURIFICATION")})]
