"""Field rules: each module reads one group of case-table fields from a patient's sentences.

A rule is a function ``(sentences, patient) -> list[Finding]`` (``patient`` a PatientContext, what the case assembly
knows of the patient beforehand); ``RULES`` lists them in the order they run.
"""

from extractors.fields import demographics, disease, drugs, labs, outcome, purification, toxicity

RULES = [
    demographics.age, demographics.sex,
    disease.diagnosis, disease.car_t,
    toxicity.crs_grade, toxicity.crs_onset, toxicity.icans, toxicity.hlh,
    purification.plasma_exchange, purification.other_purification,
    labs.markers,
    drugs.tocilizumab, drugs.corticosteroids, drugs.other_drugs,
    outcome.outcome, outcome.response, outcome.crs_resolved,
]
