-- PostgreSQL only: added NOT VALID and validated by the migrations.
ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0);
