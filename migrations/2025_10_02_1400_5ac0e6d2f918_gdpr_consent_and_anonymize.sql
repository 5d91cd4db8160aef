-- revision = "5ac0e6d2f918"
-- down_revisions = ["e2f7b3c90d41"]
-- message = "gdpr consent and anonymize deleted users"
-- created = "2025-10-02T14:00:00Z"

-- GDPR: record consent, and anonymize the accounts of deleted users (a data
-- migration). The downgrade drops the consent column; anonymized e-mails
-- stay anonymized, as the law requires.
-- braid:up
ALTER TABLE users ADD COLUMN gdpr_consent_at timestamp;
UPDATE users SET gdpr_consent_at = created_at WHERE deleted_at IS NULL;
UPDATE users
   SET email = 'deleted-' || id || '@invalid', display_name = NULL
 WHERE deleted_at IS NOT NULL;

-- braid:down
ALTER TABLE users DROP COLUMN gdpr_consent_at;
