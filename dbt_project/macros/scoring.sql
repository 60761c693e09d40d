{#- Points 0-100 for a metric value between its floor and cap, clamped. -#}
{% macro metric_points(value, floor_value, cap_value, is_higher_better) -%}
    case
        when {{ value }} is null then null
        when {{ is_higher_better }} then
            greatest(least(
                ({{ value }} - {{ floor_value }})
                / ({{ cap_value }} - {{ floor_value }}),
                1), 0) * 100
        else
            greatest(least(
                ({{ cap_value }} - {{ value }})
                / ({{ cap_value }} - {{ floor_value }}),
                1), 0) * 100
    end
{%- endmacro %}

{#- Seconds from one timestamp to another, the same on DuckDB and PostgreSQL. -#}
{% macro seconds_between(start_at, end_at) -%}
    cast(
        extract(epoch from {{ end_at }}) - extract(epoch from {{ start_at }})
        as decimal(18, 3)
    )
{%- endmacro %}

{#- A ratio as decimal(18, 6), null when the denominator is not positive. -#}
{% macro safe_ratio(numerator, denominator) -%}
    cast(
        case
            when {{ denominator }} > 0
                then
                    cast({{ numerator }} as decimal(18, 6))
                    / cast({{ denominator }} as decimal(18, 6))
        end
        as decimal(18, 6)
    )
{%- endmacro %}

{#- Share (0-100) of the other scored peers that rank below; 100 alone. -#}
{% macro percentile(rank_column, peer_count_column) -%}
    cast(
        case
            when {{ rank_column }} is null then null
            when {{ peer_count_column }} = 1 then 100
            else
                cast(
                    {{ peer_count_column }} - {{ rank_column }}
                    as decimal(18, 6)
                )
                * 100
                / ({{ peer_count_column }} - 1)
        end
        as decimal(5, 1)
    )
{%- endmacro %}

{#- amount × numerator / denominator (integers), rounded half up to the cent.
    Computed on whole cents, so DuckDB's floating-point division of decimals
    cannot leave a stray fraction of a cent. -#}
{% macro prorated_amount(amount, numerator, denominator) -%}
    cast(
        floor(
            (
                cast({{ amount }} * 100 as decimal(38, 0))
                * {{ numerator }} * 2
                + {{ denominator }}
            )
            / (2 * {{ denominator }})
        )
        / 100
        as decimal(18, 2)
    )
{%- endmacro %}
