"""Server-rendered pages of the app (Part E): dashboard, SKU page, evidence,
approvals queue, audit log and admin pages. They work without JavaScript."""
