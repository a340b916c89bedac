/**
 * The API's validation message for one form field, worded for the form: a
 * message that starts with the field's name and "must"/"can" ("maxBudget
 * must be at least 0") takes the field's label instead ("Max budget must be
 * at least 0"); any other keeps its words, capitalised.
 */
export function fieldMessage(label: string, field: string, message: string | undefined): string | undefined {
  if (!message) return undefined;
  const rest = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
  return /^(must|can) /.test(rest) ? `${label} ${rest}` : rest.charAt(0).toUpperCase() + rest.slice(1);
}

/** `fieldMessage` for a form whose fields' labels are `labels`. */
export function fieldMessages<F extends string>(labels: Record<F, string>): (field: F, message: string | undefined) => string | undefined {
  return (field, message) => fieldMessage(labels[field], field, message);
}
