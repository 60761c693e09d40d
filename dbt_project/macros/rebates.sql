{#- A line is in a program's scope on one dimension when the program lists
    no value for that dimension, or lists the line's value. -#}

{% macro rebate_in_scope(dimension, column) -%}
    (
        not exists (
            select 1
            from scope as listed
            where
                listed.program_id = programs.program_id
                and listed.dimension = '{{ dimension }}'
        )
        or exists (
            select 1
            from scope as listed
            where
                listed.program_id = programs.program_id
                and listed.dimension = '{{ dimension }}'
                and listed.scope_value = {{ column }}
        )
    )
{%- endmacro %}
