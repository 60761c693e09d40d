{#- Quarter arithmetic that gives the same answer on DuckDB and PostgreSQL. -#}

{% macro quarter_label(date_column) -%}
    cast(cast(extract(year from {{ date_column }}) as integer) as varchar)
    || 'Q'
    || cast(cast(extract(quarter from {{ date_column }}) as integer) as varchar)
{%- endmacro %}

{% macro quarter_index(date_column) -%}
    (
        cast(extract(year from {{ date_column }}) as integer) * 4
        + cast(extract(quarter from {{ date_column }}) as integer) - 1
    )
{%- endmacro %}

{% macro quarter_start(date_column) -%}
    cast({{ dbt.date_trunc('quarter', date_column) }} as date)
{%- endmacro %}

{% macro month_label(date_column) -%}
    cast(cast(extract(year from {{ date_column }}) as integer) as varchar)
    || '-'
    || lpad(
        cast(cast(extract(month from {{ date_column }}) as integer) as varchar),
        2,
        '0'
    )
{%- endmacro %}

{% macro month_index(date_column) -%}
    (
        cast(extract(year from {{ date_column }}) as integer) * 12
        + cast(extract(month from {{ date_column }}) as integer) - 1
    )
{%- endmacro %}

{#- The index of the period of `grain` ('month' or 'quarter') a date is in. -#}
{% macro period_index(grain_column, date_column) -%}
    case
        when {{ grain_column }} = 'month' then {{ month_index(date_column) }}
        else {{ quarter_index(date_column) }}
    end
{%- endmacro %}
