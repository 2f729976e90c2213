-- The store keeps codes and values, never words: the events' and alerts' message_nl/message_en columns go. Rows
-- written before events were data keep the words they were written with, as a recorded value in detail_json
-- ({"recorded": {"nl": …, "en": …}}), which sync.core.events says in the reader's language (or the one there is).
-- Nothing is lost: detail_json that is not a JSON object is kept beside them ("detail").

-- An acknowledgement recorded the alert it saw with that alert's words: the same recorded value.
UPDATE events
SET detail_json = json_merge_patch(detail_json, json_object('alert', json_object(
        'message_nl', NULL::JSON, 'message_en', NULL::JSON,
        'recorded', json_object('nl', json_extract_string(detail_json, '$.alert.message_nl'),
                                'en', json_extract_string(detail_json, '$.alert.message_en')))))
WHERE kind = 'alert_acknowledged' AND json_valid(detail_json) AND json_type(detail_json) = 'OBJECT'
  AND (json_extract_string(detail_json, '$.alert.message_nl') IS NOT NULL
       OR json_extract_string(detail_json, '$.alert.message_en') IS NOT NULL);

UPDATE events
SET detail_json = CASE
        WHEN detail_json IS NULL THEN json_object('recorded', json_object(
            'nl', coalesce(nullif(message_nl, ''), message_en), 'en', coalesce(nullif(message_en, ''), message_nl)))
        WHEN json_valid(detail_json) AND json_type(detail_json) = 'OBJECT' THEN json_merge_patch(detail_json,
            json_object('recorded', json_object(
                'nl', coalesce(nullif(message_nl, ''), message_en), 'en', coalesce(nullif(message_en, ''), message_nl))))
        ELSE json_object('recorded', json_object(
            'nl', coalesce(nullif(message_nl, ''), message_en), 'en', coalesce(nullif(message_en, ''), message_nl)),
            'detail', detail_json)
    END
WHERE coalesce(message_nl, '') <> '' OR coalesce(message_en, '') <> '';

UPDATE alerts
SET detail_json = CASE
        WHEN detail_json IS NULL THEN json_object('recorded', json_object(
            'nl', coalesce(nullif(message_nl, ''), message_en), 'en', coalesce(nullif(message_en, ''), message_nl)))
        WHEN json_valid(detail_json) AND json_type(detail_json) = 'OBJECT' THEN json_merge_patch(detail_json,
            json_object('recorded', json_object(
                'nl', coalesce(nullif(message_nl, ''), message_en), 'en', coalesce(nullif(message_en, ''), message_nl))))
        ELSE json_object('recorded', json_object(
            'nl', coalesce(nullif(message_nl, ''), message_en), 'en', coalesce(nullif(message_en, ''), message_nl)),
            'detail', detail_json)
    END
WHERE coalesce(message_nl, '') <> '' OR coalesce(message_en, '') <> '';

ALTER TABLE events DROP COLUMN message_nl;
ALTER TABLE events DROP COLUMN message_en;
ALTER TABLE alerts DROP COLUMN message_nl;
ALTER TABLE alerts DROP COLUMN message_en;
