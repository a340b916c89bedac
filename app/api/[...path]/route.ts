import { notFoundRoute } from "@/lib/http/route";

const notFound = notFoundRoute();

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
