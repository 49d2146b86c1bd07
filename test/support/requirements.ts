/**
 * `describe` when a tool the block needs is installed. Without it, under CI=true the block fails (CI must run
 * these tests: .ci/run installs the tool's Debian package); on a developer's machine it is skipped, saying why.
 */
export function describeWhen(available: boolean, reason: string, name: string, fn: () => void): void {
  if (available) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has what it needs', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${reason}`);
  describe.skip(name, fn);
}
