{#- Models land in the schema their folder names (staging, intermediate,
    marts), the same on every target, so the gate and publish code can name
    them. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
