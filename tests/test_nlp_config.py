"""The spaCy pipeline is built from extractors/config.cfg: its config shows the whole pipeline and rebuilds it, the
components take their settings from the cfg, and a trained model, when installed, is the base the cfg's
components are added to."""

import json

import pytest
import spacy
from spacy import util

import extractors.nlp as nlp_module
from extractors.lexicon import lexicon_entries
from extractors.nlp import CONFIG, build_nlp, build_pipeline, load_pipeline_config, pipeline_description

TEXT = ("A 58-year-old man received axi-cel and developed grade 3 cytokine release syndrome. "
        "Therapeutic plasma exchange (TPE) was performed on day 4. IL-6 was 5,230 pg/mL before TPE.")


def concepts(doc, key="concepts"):
    return [(span.text, span.label_, span.id_) for span in doc.spans[key]]


def test_the_config_shows_the_whole_pipeline_and_rebuilds_it():
    nlp = build_nlp()
    text = nlp.config.to_str()
    rebuilt = util.load_model_from_config(util.load_config_from_str(text), auto_fill=True)
    assert rebuilt.pipe_names == nlp.pipe_names == load_pipeline_config()["nlp"]["pipeline"]
    assert rebuilt.config["components"] == nlp.config["components"]
    rebuilt.initialize()  # the [initialize] step loads the lexicons and the ConText rules
    assert len(rebuilt.get_pipe("pecrs_concepts").patterns) == len(lexicon_entries())
    assert len(rebuilt.get_pipe("medspacy_context").rules) == len(nlp.get_pipe("medspacy_context").rules)
    assert concepts(rebuilt(TEXT)) == concepts(nlp(TEXT))
    assert pipeline_description().endswith(", ".join(nlp.pipe_names))


def test_the_tokenizer_is_scispacys_named_in_the_config():
    nlp = build_nlp()
    assert nlp.config["nlp"]["tokenizer"] == {"@tokenizers": "pecrs.scispacy_tokenizer.v1"}
    # scispaCy keeps "IL-6" and "pg/mL" whole where spaCy's English tokenizer splits them
    assert [t.text for t in nlp.make_doc("IL-6 was 5,230 pg/mL")] == ["IL-6", "was", "5,230", "pg/mL"]
    assert [t.text for t in spacy.blank("en").make_doc("IL-6 was 5,230 pg/mL")] != ["IL-6", "was", "5,230", "pg/mL"]


def test_the_components_take_their_settings_from_the_cfg(tmp_path):
    config = load_pipeline_config()
    assert config["components"]["medspacy_context"]["max_scope"] != 3
    config["components"]["medspacy_context"]["max_scope"] = 3
    config["components"]["pecrs_concepts"]["spans_key"] = "terms"
    config["components"]["pecrs_quantities"]["spans_key"] = "amounts"
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"context_rules": [{"literal": "zzqx", "category": "NEGATED_EXISTENCE"}]}))
    config["initialize"]["after_init"]["context_rules"] = str(rules)
    copy = tmp_path / "config.cfg"
    config.to_disk(copy)

    nlp = build_pipeline(load_pipeline_config(copy))
    context = nlp.get_pipe("medspacy_context")
    assert context.max_scope == 3
    assert context.span_group_name == "terms"  # the components that share the ruler's spans key follow it
    assert "zzqx" in [rule.literal for rule in context.rules]
    assert "was scheduled" not in [rule.literal for rule in context.rules]  # from the repository's rules file
    doc = nlp(TEXT)
    assert "concepts" not in doc.spans and "quantities" not in doc.spans
    assert ("TPE", "PE", "pe") in concepts(doc, "terms")  # "TPE" by its definition in the text
    assert [span.text for span in doc.spans["amounts"]] == ["5,230 pg/mL"]


@pytest.fixture
def trained_model(tmp_path, monkeypatch):
    """A small model saved to disk standing in for an installed scispaCy model (a tagger, and an ner the
    pipeline leaves out)."""
    model = spacy.blank("en")
    model.add_pipe("tagger").add_label("NN")
    model.add_pipe("ner").add_label("ENTITY")
    model.initialize()
    model.to_disk(tmp_path / "model")
    monkeypatch.setattr(nlp_module, "trained_model_name", lambda: str(tmp_path / "model"))
    return tmp_path / "model"


def test_a_trained_model_is_the_base_the_cfg_components_are_added_to(trained_model):
    cfg_pipeline = load_pipeline_config()["nlp"]["pipeline"]
    nlp = build_pipeline(load_pipeline_config())
    # the sentence starts are set before the model's own components, the rest after them
    assert nlp.pipe_names == [cfg_pipeline[0], "tagger", *cfg_pipeline[1:]]
    cfg_context = load_pipeline_config()["components"]["medspacy_context"]
    assert nlp.get_pipe("medspacy_context").max_scope == cfg_context["max_scope"]
    assert len(nlp.get_pipe("pecrs_concepts").patterns) == len(lexicon_entries())
    assert concepts(nlp(TEXT)) == concepts(build_nlp()(TEXT))
    shown = nlp.config
    assert shown["nlp"]["pipeline"] == nlp.pipe_names
    assert shown["initialize"]["after_init"] == load_pipeline_config()["initialize"]["after_init"]
    rebuilt = util.load_model_from_config(util.load_config_from_str(shown.to_str()), auto_fill=True)
    assert rebuilt.pipe_names == nlp.pipe_names


def test_a_model_that_does_not_load_leaves_the_blank_pipeline(tmp_path, monkeypatch):
    monkeypatch.setattr(nlp_module, "trained_model_name", lambda: str(tmp_path / "missing"))
    nlp = build_pipeline(load_pipeline_config())
    assert nlp.pipe_names == load_pipeline_config()["nlp"]["pipeline"]


def test_the_cfg_is_shipped_with_the_package():
    import tomllib

    project = tomllib.loads((CONFIG.parent.parent / "pyproject.toml").read_text())
    assert CONFIG.name in project["tool"]["setuptools"]["package-data"]["extractors"]
