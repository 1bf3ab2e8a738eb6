/**
 * A county integrator's first day in TypeScript, with nothing but the generated types
 * (src/kcbx.d.ts, openapi-typescript) and openapi-fetch: the same steps as clients/flow.py.
 *
 *   node dist/flow.js http://127.0.0.1:PORT   (a server with the demo seeded; .ci/client-ts)
 *
 * Sign in with the JSON sign-in, set up a school and import its roster and staff, open a
 * term, take a roll with one absence through POST /attendance-events/batch (its answer is a
 * BatchResult and nothing else: no cast, no narrowing), read the alert and the case, log the
 * call, verify the alert, download the absence-tracking ledger as XLSX. Typechecked with
 * `tsc --strict`; no `as`, no `any`.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./kcbx.js";

type Schemas = components["schemas"];
type Client = ReturnType<typeof createClient<paths>>;

const OPS = { username: "13800000000", password: "demo1234" }; // the demo's operator
const HEAD_TEACHER = { username: "13912340002", password: "client-ts-pass-1" };
const PUPILS: [string, string, string, string][] = [
  ["赵一", "20170304011", "赵大山", "父亲"],
  ["钱二", "20170506012", "钱小红", "母亲"],
  ["孙三", "20170708013", "孙强", "父亲"],
];

/** The answer a step must get; an error (a problem document) or nothing stops the flow. */
function expect<T>(answer: { data?: T; error?: unknown; response: Response }, step: string): T {
  if (answer.data === undefined) {
    throw new Error(`${step}: ${answer.response.status} ${JSON.stringify(answer.error)}`);
  }
  console.log(`ok  ${step}`);
  return answer.data;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function signIn(baseUrl: string, who: Schemas["LoginIn"]): Promise<Client> {
  const anonymous = createClient<paths>({ baseUrl });
  const token = expect(await anonymous.POST("/api/v1/auth/login", { body: who }), "sign in (JSON)");
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token.access_token}` } });
}

/** GB 11643: the 18th character is the mod-11 check of the first 17. */
function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const total = [...first17].reduce((sum, c, i) => sum + Number(c) * (weights[i] ?? 0), 0);
  return first17 + "10X98765432".charAt(total % 11);
}

function roster(): Blob {
  const lines = ["序号,姓名,全国学籍号,身份证件号,民族,年级,班级,成员1姓名,成员1关系,成员1联系电话"];
  PUPILS.forEach(([name, born, guardian, relation], i) => {
    const number = idNumber(`530122${born}`);
    const n = i + 1;
    lines.push(`${n},${name},G${number},${number},汉族,三年级,(1)班,${guardian},${relation},13710000${n}00`);
  });
  return new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
}

function staff(): Blob {
  const text =
    "姓名,手机号,职务,年级,班级,初始密码\n" +
    "周校长,13912340019,校长,,,\n" +
    `吴老师,${HEAD_TEACHER.username},班主任,三年级,1班,${HEAD_TEACHER.password}\n`;
  return new Blob([text], { type: "text/csv" });
}

/** A multipart body from the generated form type: each field as the form sends it. */
function form(fields: Record<string, Blob | string | number | boolean>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Blob) data.append(key, value, `${key}.csv`);
    else data.append(key, String(value));
  }
  return data;
}

/** Today and the days around it, as the school (UTC+8) counts them. */
function beijingDay(offsetDays = 0): string {
  const now = new Date(Date.now() + 8 * 3600_000 + offsetDays * 86400_000);
  return now.toISOString().slice(0, 10);
}

async function main(baseUrl: string): Promise<void> {
  const ops = await signIn(baseUrl, OPS);
  const today = beijingDay();
  const townships = expect(await ops.GET("/api/v1/townships"), "list townships");
  const township = townships.items[0];
  if (township === undefined) throw new Error("the demo has no township");

  const schoolIn: Schemas["SchoolIn"] = {
    township_id: township.id,
    name: "TS 客户端示例小学",
    code: `TS-${Date.now().toString(36)}`,
    kind: "primary",
  };
  const school = expect(await ops.POST("/api/v1/schools", { body: schoolIn }), "create a school");
  const rosterForm: Schemas["ImportsRosterCreateForm"] = { file: roster(), school_id: school.id };
  const report = expect(
    await ops.POST("/api/v1/imports/roster", { body: rosterForm, bodySerializer: form }),
    "roster",
  );
  check(report.students_created === 3, `3 students created, got ${report.students_created}`);
  check(report.classes_created.join() === "三年级1班", `class 三年级1班, got ${report.classes_created}`);
  const staffForm: Schemas["ImportsStaffCreateForm"] = { file: staff(), school_id: school.id };
  const people = expect(
    await ops.POST("/api/v1/imports/staff", { body: staffForm, bodySerializer: form }),
    "staff",
  );
  check(people.staff_created.length === 2, "2 staff created");
  const term: Schemas["TermIn"] = { name: "本学期", start_date: beijingDay(-40), end_date: beijingDay(7) };
  expect(
    await ops.POST("/api/v1/schools/{school_id}/terms", {
      params: { path: { school_id: school.id } },
      body: term,
    }),
    "open a term",
  );

  const teacher = await signIn(baseUrl, HEAD_TEACHER);
  const calendar = expect(
    await teacher.GET("/api/v1/schools/{school_id}/calendar", {
      params: { path: { school_id: school.id }, query: { start: beijingDay(-14), end: today } },
    }),
    "read the calendar",
  );
  const days = calendar.days.filter((d) => d.is_school_day && d.date < today).map((d) => d.date);
  const day = days.sort().at(-1);
  if (day === undefined) throw new Error("no school day in the last two weeks");
  const students = expect(await teacher.GET("/api/v1/students"), "list the head teacher's class");
  const absent = students.items.find((s) => s.name === "孙三");
  if (absent === undefined) throw new Error("孙三 is not in the class");

  const events: Schemas["AttendanceEventIn"][] = students.items.map((s) => ({
    event_id: crypto.randomUUID(),
    student_id: s.id,
    school_date: day,
    check: "morning",
    status: s.id === absent.id ? "absent" : "present",
    occurred_at: `${day}T08:05:00+08:00`,
  }));
  // One operation, one answer type: `batch` is a BatchResult as generated, nothing to narrow.
  const batch = expect(
    await teacher.POST("/api/v1/attendance-events/batch", { body: { events } }),
    `post the ${day} morning roll`,
  );
  check(batch.accepted === 3 && batch.rejected === 0, `3 accepted, got ${JSON.stringify(batch)}`);
  const first = batch.results[0];
  check(first !== undefined && first.code === null, "an accepted event carries code null");

  const alerts = expect(await teacher.GET("/api/v1/alerts"), "list alerts");
  const blue = alerts.items.find((a) => a.student_id === absent.id);
  if (blue === undefined) throw new Error("no alert for the absent pupil");
  console.log(`    ${blue.level_label} for ${blue.student_name}: ${blue.status_label}`);
  const caseDetail = expect(
    await teacher.GET("/api/v1/students/{student_id}/case", {
      params: { path: { student_id: absent.id } },
    }),
    "the case",
  );
  const call: Schemas["ContactIn"] = { reached: true, answered_by: "父亲", reason_category: "illness" };
  expect(
    await teacher.POST("/api/v1/cases/{case_id}/contacts", {
      params: { path: { case_id: caseDetail.id } },
      body: call,
    }),
    "log a call",
  );
  const verified = expect(
    await teacher.POST("/api/v1/alerts/{alert_id}/verify", {
      params: { path: { alert_id: blue.id } },
      body: { note: "已电话核实:发烧" },
    }),
    "verify the alert",
  );
  check(verified.id === blue.id, "the verified alert is the one listed");

  const ledger = expect(
    await ops.GET("/api/v1/ledgers/absence-tracking.xlsx", {
      params: { query: { school_id: school.id, start: day, end: day } },
      parseAs: "blob",
    }),
    "download the absence-tracking ledger (XLSX)",
  );
  const bytes = new Uint8Array(await ledger.arrayBuffer());
  check(bytes[0] === 0x50 && bytes[1] === 0x4b, "an XLSX starts with PK");
  console.log(`    ${bytes.length} bytes of XLSX`);
}

const baseUrl = process.argv[2];
if (baseUrl === undefined) {
  console.error("usage: node dist/flow.js BASE_URL");
  process.exit(2);
}
main(baseUrl).then(
  () => console.log("generated TypeScript client flow passed"),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
