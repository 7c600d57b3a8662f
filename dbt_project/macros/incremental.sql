{#- The incremental machinery (docs/INCREMENTAL.md): which models apply fct_events' changes, the
    manifest of how far each incremental model got, and fct_events' merge strategy. -#}

{% macro downstream_incremental_models() -%}
    {#- The names of the incremental models that apply fct_events' changes: those reading
        int_events_this_run, int_persons_this_run or int_conversions_this_run. -#}
    {%- set inputs = ['int_events_this_run', 'int_persons_this_run', 'int_conversions_this_run'] -%}
    {%- set names = [] -%}
    {%- if not execute -%}
        {{ return(names) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and node.config.materialized == 'incremental' -%}
        {%- if node.depends_on.nodes | map('replace', 'model.' ~ project_name ~ '.', '') | select('in', inputs) | list -%}
            {%- do names.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names | sort) }}
{%- endmacro %}


{% macro record_progress(results) -%}
    {#- on-run-end: the progress (int_incremental_manifest) of each incremental model this run
        built from this-run tables that it also rebuilt (a model run without them, e.g.
        `--select fct_funnel_steps`, read an earlier run's changes again, and keeps its row). -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = results | selectattr('status', 'equalto', 'success') | map(attribute='node')
        | selectattr('resource_type', 'equalto', 'model') | list -%}
    {%- set built_ids = built | map(attribute='unique_id') | list -%}
    {%- set this_run = [] -%}
    {%- for node in graph.nodes.values() if 'this_run' in node.fqn -%}
        {%- do this_run.append(node.unique_id) -%}
    {%- endfor -%}
    {%- set progressed = [] -%}
    {%- for node in built if node.config.materialized == 'incremental' and node.name != 'int_incremental_manifest' -%}
        {%- set inputs = node.depends_on.nodes | select('in', this_run) | list -%}
        {%- if inputs and inputs | reject('in', built_ids) | list | length == 0 -%}
            {%- do progressed.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if progressed -%}
        {%- set manifest = graph.nodes['model.' ~ project_name ~ '.int_incremental_manifest'] -%}
        {%- set manifest = api.Relation.create(manifest.database, manifest.schema, manifest.alias) -%}
        delete from {{ manifest }}
        where model in ('{{ progressed | map(attribute='name') | join("', '") }}');
        insert into {{ manifest }} (model, changes_until, received_until)
        {% for node in progressed -%}
        select
            '{{ node.name }}',
            {{ run_stamp() }},
            {% if node.name == 'fct_events' -%}
            (select max(received_at) from {{ api.Relation.create(node.database, node.schema, node.alias) }})
            {%- else -%}
            cast(null as timestamp with time zone)
            {%- endif %}
        {% if not loop.last %}union all{% endif %}
        {% endfor %}
    {%- endif -%}
{%- endmacro %}


{% macro delete_rows_not_rebuilt(key, keys_this_run) -%}
    {#- post-hook of a delete+insert model that recomputes the keys of a this-run table: the
        stored rows of those keys that this run did not write again. dbt's delete+insert
        replaces only the keys present in the new rows, so a key left without rows is deleted
        here. A full build writes every row, so it deletes nothing. -#}
    delete from {{ this }}
    where {{ key }} in (select {{ key }} from {{ keys_this_run }})
        and built_at < {{ run_stamp() }}
{%- endmacro %}


{% macro distinct_from(left, right) -%}
    ({{ left }} <> {{ right }} or ({{ left }} is null) <> ({{ right }} is null))
{%- endmacro %}


{% macro get_incremental_merge_recent_sql(arg_dict) -%}
    {#- Incremental strategy `merge_recent` (fct_events): dbt's merge, matched only against the
        stored rows received no earlier than the oldest row being merged. An event's
        received_at never changes (event_id is shared_events' key, and a re-sent event is
        ignored), so an older stored row cannot match one of them, and the merge reads the
        table's recent part instead of every stored event_id: DuckDB skips the row groups whose
        received_at range is older (the table grows in received_at order), PostgreSQL can read
        its received_at index. The oldest received_at is read from the rows to merge. -#}
    {%- set oldest = run_query(
        'select min(received_at) from ' ~ arg_dict['temp_relation']).columns[0].values()[0] -%}
    {%- set predicates = arg_dict['incremental_predicates'] or [] -%}
    {%- if oldest is not none -%}
        {%- set predicates = predicates + [
            "DBT_INTERNAL_DEST.received_at >= cast('" ~ oldest.isoformat()
            ~ "' as timestamp with time zone)"] -%}
    {%- endif -%}
    {%- do arg_dict.update({'incremental_predicates': predicates}) -%}
    {{ return(get_incremental_merge_sql(arg_dict)) }}
{%- endmacro %}
