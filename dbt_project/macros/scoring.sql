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
