{#- Exact division for money and bases. DuckDB divides DECIMAL by DECIMAL
    or INTEGER as DOUBLE, so `round(x / n, 2)` is not exact there (150.015
    comes out 150.01); these macros divide whole numbers only. -#}

{#- The floor of a non-negative whole number divided by a positive one. -#}
{% macro integer_quotient(numerator, denominator) -%}
    {%- if target.type == 'postgres' -%}
        div(
            cast({{ numerator }} as numeric),
            cast({{ denominator }} as numeric)
        )
    {%- else -%}
        (
            cast({{ numerator }} as hugeint)
            // cast({{ denominator }} as hugeint)
        )
    {%- endif -%}
{%- endmacro %}

{#- numerator / denominator rounded half away from zero to `scale` places,
    exactly, for a positive whole denominator. The quotient is first cut
    (towards zero) to scale + 1 places, which never changes how it rounds:
    a half-way value has scale + 1 places and is not cut. -#}
{% macro rounded_quotient(numerator, denominator, scale) -%}
    {%- set digits = scale + 1 -%}
    cast(
        case when {{ numerator }} < 0 then -1 else 1 end
        * round(
            cast(
                {{ integer_quotient(
                    'trunc(abs(' ~ numerator ~ ') * 1' ~ '0' * digits ~ ')',
                    denominator
                ) }} as decimal(38, 0)
            )
            * cast(0.{{ '0' * scale }}1 as decimal(38, {{ digits }})),
            {{ scale }}
        ) as decimal(18, {{ scale }})
    )
{%- endmacro %}
