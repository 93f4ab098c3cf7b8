"""What a newcomer meets first, page by page (AppTest): compact number boxes, no classroom controls alone."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from unsup_core.runs.spec import make_spec
from unsup_core.settings import QueueLimits

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def app(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    return AppTest.from_file(APP, default_timeout=60)


def test_float_boxes_show_compact_values(app):
    at = app
    at.switch_page("pages/train.py").run()
    next(box for box in at.selectbox if box.label == "Algorithm").select("vae").run()
    rate = next(box for box in at.number_input if box.label == "learning rate")
    assert rate.proto.format == "%g"  # 0.0005, not a box cut at "0.00"


def test_alone_on_ones_machine_there_is_no_share_toggle(app, store):
    run_id = store.create_run(make_spec("kmeans", "blobs", steps=5), owner="u-me")
    store.claim_slot(run_id, 1, QueueLimits(cpu=4, cuda=1))
    store.finish(run_id, "done")
    at = app
    at.switch_page("pages/run.py")
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception
    assert not [toggle for toggle in at.toggle if toggle.label == "Shared"]
