"""The demo-only orchestration: the sample world (`acd_sample_world`) run through the real code
location, for `acd-warehouse seed` and `acd-warehouse demo` and the tests.

- `resources`: the sample client resources (`Sample*Resource`, `sample_client_resources`), the
  real connectors pointed at the sample world's fake APIs;
- `pipeline`: every asset and check of the code location in process on a seeded world
  (`run_pipeline`);
- `commands`: what the `seed` and `demo` commands do once their arguments are parsed.

The production code location (`orchestration.definitions`, `orchestration.defs`) never imports
this subpackage or `acd_sample_world`.
"""
