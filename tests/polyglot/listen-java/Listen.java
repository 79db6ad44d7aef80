import java.net.*;
import java.util.*;
public class Listen {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(Integer.parseInt(System.getenv("PORT")), 64, InetAddress.getByName("127.0.0.1"));
        List<Socket> open = new ArrayList<>();
        while (true) open.add(server.accept());
    }
}
