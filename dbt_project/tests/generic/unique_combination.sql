{#- Fails with one row per combination of `columns` that occurs twice. -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences

from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
