resource "aws_security_group" "app" {
  name        = "notes-app"
  description = "HTTPS from anywhere, SSH from the admin network"
  vpc_id      = var.vpc_id

  ingress {
    description = "HTTPS"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "SSH from the admin network only"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }

  egress {
    description = "Anywhere"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "db" {
  name        = "notes-db"
  description = "PostgreSQL from the app only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "PostgreSQL from the app"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
}

resource "aws_db_instance" "notes" {
  identifier                 = "notes"
  engine                     = "postgres"
  engine_version             = "17.2"
  instance_class             = "db.t4g.micro"
  allocated_storage          = 20
  storage_encrypted          = true
  username                   = "notes"
  password                   = var.db_password
  vpc_security_group_ids     = [aws_security_group.db.id]
  publicly_accessible        = false
  skip_final_snapshot        = true
  auto_minor_version_upgrade = true
}
