/**
 * The serialized provider. Pulumi writes this object's methods, and everything they capture, into
 * every resource's state as `__provider` and runs them in the dynamic-provider process. So it is
 * kept thin: each method loads the real implementation (`./dynamic`) by package name at deployment
 * time. It captures no credential, no write key and no path, and its text is the same for every
 * resource and every release, so upgrading the package alone never changes state.
 *
 * The implementation is resolved from the program directory (the provider process's cwd): from its
 * node_modules in a user's project, or by the package's self-reference in this repository.
 */
import type * as pulumi from "@pulumi/pulumi";

// `createRequire(cwd + "/")` resolves like a module in the program directory (a trailing slash
// names a directory), which also lets this repository resolve the package by its own name.
const load = () => require("node:module").createRequire(`${process.cwd()}/`)("pulumi-sendgrid-segment/dynamic");

export const provider: pulumi.dynamic.ResourceProvider = {
  configure: (req) => load().configure(req),
  check: (olds, news) => load().check(olds, news),
  diff: (id, olds, news) => load().diff(id, olds, news),
  create: (inputs) => load().create(inputs),
  read: (id, props) => load().read(id, props),
  update: (id, olds, news) => load().update(id, olds, news),
  delete: (id, props) => load().delete(id, props),
};
