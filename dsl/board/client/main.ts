// Placeholder client entry (the board-client part replaces it): shows that the server is up.
// Typed without the DOM library, which the project's tsconfig leaves out.

const doc = (globalThis as { document?: { getElementById(id: string): { textContent: string } | null } }).document;
const app = doc?.getElementById("app");
if (app) app.textContent = "lft board";
