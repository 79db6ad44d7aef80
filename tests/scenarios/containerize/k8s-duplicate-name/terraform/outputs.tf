output "app_security_group_id" {
  description = "Security group to attach to the app's instances"
  value       = aws_security_group.app.id
}

output "db_endpoint" {
  description = "host:port of the PostgreSQL instance"
  value       = aws_db_instance.notes.endpoint
}
