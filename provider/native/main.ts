/** The plugin executable's entry: `pulumi-resource-sendgrid-segment <engine address>`. */
import { main } from "./server";

main(process.argv.slice(2)).catch((error) => {
  console.error(`pulumi-resource-sendgrid-segment: ${(error as Error).message}`);
  process.exit(1);
});
