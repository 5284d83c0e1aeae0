-- Issue 14: two students of the same name in one class (Tan Wei Ling, twice) are told
-- apart by the school's register (index) number, when the class list gives one.
ALTER TABLE accounts ADD COLUMN register_no TEXT;
