"""Source settings from the environment: typed, secret-safe, clear when missing."""

from __future__ import annotations

import pytest

from orchestration.settings import (
    InvalidSetting,
    MissingCredentials,
    meta_settings,
    stripe_settings,
    tiktok_settings,
)


def test_missing_credentials_name_the_variable() -> None:
    with pytest.raises(MissingCredentials, match=r"^META_AD_ACCOUNT_IDS is not set"):
        meta_settings({})
    with pytest.raises(MissingCredentials, match=r"^META_ACCESS_TOKEN is not set"):
        meta_settings({"META_AD_ACCOUNT_IDS": "act_1"})
    with pytest.raises(MissingCredentials, match=r"^TIKTOK_ACCESS_TOKEN is not set"):
        tiktok_settings({"TIKTOK_ADVERTISER_IDS": "1"})
    with pytest.raises(MissingCredentials, match=r"^STRIPE_API_KEY is not set"):
        stripe_settings({"STRIPE_API_KEY": "  "})


def test_settings_are_typed_and_never_show_secrets() -> None:
    meta = meta_settings(
        {
            "META_ACCESS_TOKEN": "EAABsecret",
            "META_AD_ACCOUNT_IDS": "act_1, 2",
            "META_API_BASE_URL": "http://127.0.0.1:9/meta/v21.0/",
        }
    )
    assert meta.ad_account_ids == ("act_1", "2")
    assert meta.base_url == "http://127.0.0.1:9/meta/v21.0"
    assert "EAABsecret" not in repr(meta) and "EAABsecret" not in str(meta)
    assert meta.access_token.reveal() == "EAABsecret"
    tiktok = tiktok_settings({"TIKTOK_ACCESS_TOKEN": "tt", "TIKTOK_ADVERTISER_IDS": "7,8"})
    assert tiktok.advertiser_ids == ("7", "8") and tiktok.display_access_token is None
    stripe = stripe_settings({"STRIPE_API_KEY": "sk_test_1"})
    assert stripe.base_url is None and "sk_test_1" not in repr(stripe)


def test_unusable_values_are_rejected() -> None:
    with pytest.raises(InvalidSetting, match="META_AD_ACCOUNT_IDS"):
        meta_settings({"META_ACCESS_TOKEN": "x", "META_AD_ACCOUNT_IDS": "my-account"})
    with pytest.raises(InvalidSetting, match="STRIPE_API_BASE_URL"):
        stripe_settings({"STRIPE_API_KEY": "k", "STRIPE_API_BASE_URL": "localhost:1234"})
