import { NotFoundError } from "@/lib/http/errors";
import { route } from "@/lib/http/route";

/** Unknown /api paths answer in the envelope instead of Next's HTML 404 page. */
const notFound = route({ auth: "none" }, async ({ req }) => {
  throw new NotFoundError(`There is no API endpoint ${req.method} ${new URL(req.url).pathname}. See /docs for the list.`);
});

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
