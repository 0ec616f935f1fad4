"""Vendor matching: case-, punctuation-, legal-suffix- and alias-insensitive; unknowns kept."""

from __future__ import annotations

import pandas as pd
import pytest

import cleanpath
from cleanpath.model.vendors import default_catalogue, default_untrusted, normalise_name


@pytest.mark.parametrize("spelling, vendor", [
    ("HUAWEI", "huawei"),
    ("Huawei Technologies Co., Ltd.", "huawei"),
    ("  huawei technologies co ltd ", "huawei"),
    ("华为技术有限公司", "huawei"),
    ("ZTE Corporation", "zte"),
    ("Ericsson AB", "ericsson"),
    ("Telefonaktiebolaget LM Ericsson", "ericsson"),
    ("Nokia Solutions and Networks Oy", "nokia"),
    ("Alcatel-Lucent", "nokia"),
    ("Cisco Systems, Inc.", "cisco"),
    ("Samsung Electronics Co., Ltd.", "samsung"),
    ("SIAE Microelettronica S.p.A.", "siae"),
    ("FiberHome Telecommunication Technologies Co., Ltd", "fiberhome"),
])
def test_known_spellings_resolve(spelling, vendor):
    assert default_catalogue().resolve(spelling) == vendor


def test_unknown_vendor_is_kept_and_flagged():
    cat = default_catalogue()
    assert cat.resolve("Acme Radio Works") is None
    ids, known = cat.resolve_series(pd.Series(["HUAWEI", " Acme Radio Works ", None, "zte"]))
    assert ids.tolist() == ["huawei", "Acme Radio Works", None, "zte"]
    assert known.tolist() == [True, False, False, True]


def test_imported_vendors_table_extends_the_catalogue():
    tables = {
        "operators": pd.DataFrame({"operator_id": ["o"], "name": ["O"], "country": ["DE"]}),
        "sites": pd.DataFrame({"site_id": ["s"], "operator_id": ["o"], "kind": ["cell"]}),
        "elements": pd.DataFrame({"element_id": ["a", "b"], "site_id": ["s", "s"],
                                  "role": ["ran.radio", "ran.radio"], "vendor": ["ACME Inc.", "Acme Radio"]}),
        "vendors": pd.DataFrame({"vendor_id": ["acme"], "name": ["Acme"], "aliases": ["Acme Radio"],
                                 "hq_country": ["CN"]}),
    }
    net = cleanpath.Network(tables)
    assert net.elements["vendor"].tolist() == ["acme", "acme"]
    assert net.unknown_vendors().empty
    assert "acme" in default_untrusted(net.catalogue)


def test_normalise_keeps_a_name_that_is_only_legal_words():
    assert normalise_name("The Group") == "the group"


def test_default_untrusted_includes_huawei_zte_not_ericsson():
    bad = default_untrusted()
    assert {"huawei", "zte"} <= bad and not bad & {"ericsson", "nokia", "samsung", "cisco"}


def test_catalogue_ids_unique_and_aliases_unambiguous():
    cat = default_catalogue()
    assert cat.table["vendor_id"].is_unique
    seen = {}
    for row in cat.table.itertuples():
        for alias in [row.vendor_id, row.name] + (row.aliases.split("|") if isinstance(row.aliases, str) else []):
            key = normalise_name(alias)
            assert seen.setdefault(key, row.vendor_id) == row.vendor_id, f"{alias!r} is ambiguous"


@pytest.mark.parametrize("text, legal", [
    (" Ltd.", True), ("Co., Ltd.", True), ("S.p.A.", True), ("Inc", True), ("GmbH & Co. KG", True),
    ("ZTE", False), ("Ltd Radio", False), ("?", False), ("", False),
])
def test_legal_form_fragments(text, legal):
    from cleanpath.model.vendors import is_legal_form

    assert is_legal_form(text) is legal


def test_spellings_cover_ids_names_and_aliases():
    sp = default_catalogue().spellings()
    assert sp["huawei"] == sp["Huawei Technologies"] == sp["Huawei Technologies Co., Ltd."] == "huawei"
    assert sp["Cisco Systems, Inc."] == "cisco"
