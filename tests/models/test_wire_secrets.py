"""CustomConfig keys never show up anywhere except in to_wire()."""

from __future__ import annotations

import json
import logging
import traceback
import warnings

import pytest
from rtcsnap.errors import ValidationError
from rtcsnap.models import (
    SECRET_MASK,
    CustomConfig,
    RtcSnapLenientWarning,
    StartSnapshotRequest,
    StorageConfig,
)

from tests.models.wire_bodies import ACCESS_KEY, SECRET_KEY, custom_body, edit

SECRETS = (SECRET_KEY, ACCESS_KEY)


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def _request() -> StartSnapshotRequest:
    return StartSnapshotRequest.from_wire(custom_body(vendor=1, region="oss-cn-beijing"))


def test_repr_and_str_hide_secrets() -> None:
    req = _request()
    storage = req.storage_config
    custom = storage.custom_config
    assert isinstance(custom, CustomConfig) and isinstance(storage, StorageConfig)
    for obj in (custom, storage, req):
        for text in (repr(obj), str(obj), f"{obj}", "%r" % (obj,)):  # noqa: UP031
            assert _leaks(text) == []
    assert custom.secret_key.get_secret_value() == SECRET_KEY


def test_dumps_other_than_to_wire_hide_secrets() -> None:
    req = _request()
    assert _leaks(json.dumps(req.model_dump(mode="json"))) == []
    assert _leaks(req.model_dump_json()) == []
    assert _leaks(str(req.model_dump())) == []


def test_logging_hides_secrets(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("rtcsnap.test").info("request %s / %r", _request(), _request())
    assert "CustomConfig" in caplog.text
    assert _leaks(caplog.text) == []


def test_to_wire_reveals_and_mask_secrets_masks() -> None:
    req = _request()
    custom = req.to_wire()["StorageConfig"]["CustomConfig"]
    assert (custom["AccessKey"], custom["SecretKey"]) == (ACCESS_KEY, SECRET_KEY)
    masked = req.to_wire(mask_secrets=True)["StorageConfig"]["CustomConfig"]
    assert (masked["AccessKey"], masked["SecretKey"]) == (SECRET_MASK, SECRET_MASK) == ("******",) * 2
    assert _leaks(json.dumps(req.to_wire(mask_secrets=True))) == []


@pytest.mark.parametrize(
    "body",
    [
        edit(custom_body(), "StorageConfig.CustomConfig.Region", 9),  # a neighbour is invalid
        edit(custom_body(), "StorageConfig.CustomConfig.Bucket", ""),
        edit(custom_body(), "StorageConfig.CustomConfig.Vendor", 9),
        edit(custom_body(), "StorageConfig.CustomConfig.Secret", SECRET_KEY),  # misspelt key
        edit(custom_body(), "StorageConfig.CustomConfig.SecretKey", [SECRET_KEY]),  # wrong type
        edit(custom_body(), "StorageConfig.CustomConfig.AccessKey", {"k": ACCESS_KEY}),
        edit(custom_body(), "StorageConfig.Type", 0),  # CustomConfig present where it must not be
    ],
)
def test_validation_errors_never_contain_secrets(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(body)
    err = info.value
    rendered = "".join(traceback.format_exception(err))
    for text in (str(err), repr(err), repr(err.errors), rendered):
        assert _leaks(text) == [], text
    assert err.__cause__ is None


def test_kwargs_error_never_contains_secrets() -> None:
    with pytest.raises(ValidationError) as info:
        CustomConfig(bucket="", access_key=ACCESS_KEY, secret_key=SECRET_KEY, vendor=0, region=7)
    assert set(info.value.paths) == {"Bucket", "Region"}
    assert _leaks("".join(traceback.format_exception(info.value))) == []


def test_lenient_warnings_never_contain_secrets() -> None:
    body = edit(custom_body(region=7), "StorageConfig.CustomConfig.Token", SECRET_KEY)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        StartSnapshotRequest.from_wire(body, lenient=True)
    assert [w.category for w in record] == [RtcSnapLenientWarning] * 2
    assert all(_leaks(str(w.message)) == [] for w in record)
