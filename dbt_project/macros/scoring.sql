{#- Points 0-100 for a metric value between its floor and cap, clamped and
    rounded half up to one place, computed exactly (no floating point on
    either database): the floor scores 0 and the cap 100, reversed when lower
    is better. Values are decimals with at most six places. -#}
{% macro metric_points(value, floor_value, cap_value, is_higher_better) -%}
    {%- set clamped = 'least(greatest(' ~ value ~ ', least(' ~ floor_value
        ~ ', ' ~ cap_value ~ ')), greatest(' ~ floor_value ~ ', '
        ~ cap_value ~ '))' -%}
    {%- set span = 'abs(' ~ cap_value ~ ' - ' ~ floor_value ~ ')' -%}
    case
        when {{ value }} is null then null
        when {{ is_higher_better }}
            then {{ rounded_ratio(
                '100 * abs(' ~ clamped ~ ' - ' ~ floor_value ~ ')', span, 1, 6
            ) }}
        else {{ rounded_ratio(
            '100 * abs(' ~ cap_value ~ ' - ' ~ clamped ~ ')', span, 1, 6
        ) }}
    end
{%- endmacro %}

{#- numerator / denominator rounded half up to `places` decimal places,
    exactly: both are decimals with at most `scale` places, the numerator
    not negative and the denominator positive. Both are scaled to whole
    numbers and divided as integers, so DuckDB's floating-point division of
    decimals never enters. -#}
{% macro rounded_ratio(numerator, denominator, places, scale) -%}
    {%- set whole_numerator = 'cast((' ~ numerator ~ ') * ' ~ 10 ** scale
        ~ ' as decimal(38, 0))' -%}
    {%- set whole_denominator = 'cast((' ~ denominator ~ ') * '
        ~ 10 ** scale ~ ' as decimal(38, 0))' -%}
    cast(
        {{ whole_division(
            whole_numerator ~ ' * ' ~ 2 * 10 ** places ~ ' + '
            ~ whole_denominator,
            '2 * ' ~ whole_denominator,
        ) }}
        * {{ '0.' ~ '0' * (places - 1) ~ '1' }}
        as decimal(18, {{ places }})
    )
{%- endmacro %}

{#- Whole-number division, truncated; both operands whole numbers. -#}
{% macro whole_division(numerator, denominator) -%}
    {{ return(adapter.dispatch('whole_division')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__whole_division(numerator, denominator) -%}
    div({{ numerator }}, {{ denominator }})
{%- endmacro %}

{% macro duckdb__whole_division(numerator, denominator) -%}
    (cast({{ numerator }} as hugeint) // cast({{ denominator }} as hugeint))
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
