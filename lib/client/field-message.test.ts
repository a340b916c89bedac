import { describe, expect, it } from "vitest";
import { fieldMessage, fieldMessages } from "@/lib/client/field-message";

describe("a form field's API validation message", () => {
  it("names the field by its label when the API's message starts with the field's name and 'must' or 'can'", () => {
    expect(fieldMessage("Max budget", "maxBudget", "maxBudget must be at least 0")).toBe("Max budget must be at least 0");
    expect(fieldMessages({ rpm: "Requests per minute" })("rpm", "rpm can be at most 100000")).toBe("Requests per minute can be at most 100000");
  });

  it("keeps any other message's words, capitalised, with a leading field name dropped", () => {
    expect(fieldMessage("Name", "name", "name is already taken")).toBe("Is already taken");
    expect(fieldMessage("Name", "name", "a key with this name exists")).toBe("A key with this name exists");
  });

  it("says nothing when there is no message", () => {
    expect(fieldMessage("Name", "name", undefined)).toBeUndefined();
    expect(fieldMessage("Name", "name", "")).toBeUndefined();
  });
});
