fetch("/echo", { method: "POST", body: "hello from the browser" })
  .then((response) => response.json())
  .then((echo) => console.log("the server saw", echo));
