use std::net::TcpListener;
fn main() {
    let port = std::env::var("PORT").unwrap();
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).unwrap();
    let mut open = Vec::new();
    for stream in listener.incoming() { open.extend(stream.ok()); }
}
