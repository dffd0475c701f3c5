// Loaded into every child process of the fault tests (`node --import`): the child exits when the test
// process that started it is gone — even one killed with SIGKILL (a vitest timeout, a CI time limit),
// which cannot stop its children itself. Plain JavaScript so that it loads before anything else.
const parent = Number(process.env.FAULT_TEST_PARENT_PID)
if (parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch {
      process.kill(process.pid, 'SIGKILL')
    }
  }, 1_000).unref()
}
