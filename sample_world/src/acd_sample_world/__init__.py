"""acd_sample_world: the deterministic sample world of ACD Warehouse (demo and tests only).

- `config`: the knobs (`WorldConfig`) and the fixed catalogue the world sells from;
- `generate.generate_world`: the simulation (people, ads, organic videos, Stripe billing) as a
  stream of product events and table rows, with the ad and billing platforms' API payloads
  written to disk by `payloads` and `store`;
- `seed.seed_world`: the warehouse seeding (product tables by `warehouse.TableWriter`, events
  through the tracking SDK by `events.SdkEventWriter`);
- `fake_apis`: the sample transport, a local HTTP server answering like the Meta, TikTok and
  Stripe APIs from those payloads (`fake_apis.server.SampleWorldServer`).

Production code never imports this package; the demo-only orchestration (`orchestration.demo`)
and the tests do.
"""
