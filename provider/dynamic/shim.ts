/**
 * The serialized provider. Pulumi writes this object, and everything it captures, into every
 * resource's state as `__provider` and runs it in the dynamic-provider process. So it is one small
 * function: the runtime calls `configure` once, right after deserializing the provider and before
 * any other method; it loads the real implementation (`./dynamic`) by package name and installs
 * its methods on this object (synchronously, so no call can see the object half-made). It captures
 * no credential, no write key and no path, and its text is the same for every resource and for
 * every release since 0.2.0, so upgrading the package alone never changes state. (0.1.0 wrote a
 * shim of another shape, one function per method calling `./dynamic`'s named exports, which stay.)
 *
 * The implementation is resolved from the program directory (the provider process's cwd), with
 * `createRequire(cwd + "/")`: from its node_modules in a user's project, or through the package's
 * self-reference in this repository.
 */
import type * as pulumi from "@pulumi/pulumi";

type Shim = Pick<pulumi.dynamic.ResourceProvider, "configure">;

export const provider: Shim = {
  configure(req) {
    const impl = require("node:module").createRequire(`${process.cwd()}/`)("pulumi-sendgrid-segment/dynamic");
    Object.assign(this, impl.methods);
    return impl.configure(req);
  },
};
