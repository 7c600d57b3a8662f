"""The fake vendor APIs: the sample world served over HTTP like the live Meta, TikTok and Stripe
APIs (`server.SampleWorldServer`), one module per vendor (`meta`, `tiktok`, `stripe`)."""
