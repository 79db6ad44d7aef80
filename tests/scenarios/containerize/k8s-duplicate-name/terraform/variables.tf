variable "region" {
  type        = string
  description = "AWS region to deploy into"
  default     = "eu-west-1"
}

variable "vpc_id" {
  type        = string
  description = "VPC that holds the service"

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123abcd."
  }
}

variable "admin_cidr" {
  type        = string
  description = "The only network allowed to reach SSH"

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0)) && var.admin_cidr != "0.0.0.0/0"
    error_message = "admin_cidr must be a CIDR block narrower than 0.0.0.0/0."
  }
}

variable "db_password" {
  type        = string
  description = "Master password of the PostgreSQL instance"
  sensitive   = true

  validation {
    condition     = length(var.db_password) >= 16
    error_message = "db_password must be at least 16 characters."
  }
}
