terraform {
  required_version = "~> 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 6.0.0"
    }
  }
}

variable "vpc_id" {
  description = "VPC of the service"
  type        = string
}

variable "admin_cidr" {
  description = "Admin network that may use SSH"
  type        = string
  validation {
    condition     = can(cidrnetmask(var.admin_cidr)) && !contains(["0.0.0.0/0", "::/0"], var.admin_cidr)
    error_message = "Give one admin network, never the whole internet."
  }
}

variable "db_password" {
  description = "PostgreSQL master password"
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.db_password) >= 20
    error_message = "At least 20 characters."
  }
}

variable "db_instance_class" {
  description = "Instance class of the database"
  type        = string
  default     = "db.t4g.small"
}

resource "aws_security_group" "app" {
  name   = "notes-app"
  vpc_id = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = var.admin_cidr
}

resource "aws_security_group" "db" {
  name   = "notes-db"
  vpc_id = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  security_group_id            = aws_security_group.db.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.app.id
}

resource "aws_db_instance" "notes" {
  engine                 = "postgres"
  engine_version         = "17"
  instance_class         = var.db_instance_class
  allocated_storage      = 20
  storage_encrypted      = true
  username               = "notes"
  password               = var.db_password
  vpc_security_group_ids = [aws_security_group.db.id]
  skip_final_snapshot    = true
}

output "app_security_group_id" {
  value = aws_security_group.app.id
}

output "db_endpoint" {
  value     = aws_db_instance.notes.endpoint
  sensitive = false
}
