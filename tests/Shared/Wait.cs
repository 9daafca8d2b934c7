using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace FastSpool.Tests;

/// <summary>The one way a test waits for work to happen: a condition probed until it holds or a deadline passes.
/// At the deadline the test fails, saying what it waited for, for how long, and what it saw last. Linked into
/// every test project (tests/Directory.Build.props).</summary>
internal static class Wait
{
    /// <summary>Long enough for a loaded two-core machine; a test that expects longer passes its own.</summary>
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    // Between probes: short, so that a wait ends soon after its condition holds; long enough not to spin a core.
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(20);

    private static readonly Task<bool> True = Task.FromResult(true);

    private static readonly Task<bool> False = Task.FromResult(false);

    /// <summary>Waits until <paramref name="condition"/> is true.</summary>
    /// <param name="because">What is waited for, in words, for the failure message; the condition's text if null.</param>
    /// <param name="observed">What was seen instead, asked once at the deadline for the failure message.</param>
    public static Task UntilAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null, Func<string>? observed = null,
        [CallerArgumentExpression(nameof(condition))] string expression = "") =>
        PollAsync(() => condition() ? True : False, timeout, because ?? Describe(expression), observed);

    /// <summary>Waits until <paramref name="condition"/> completes with true. A probe still running at the deadline
    /// is left behind and the wait fails, so a probe may block (on a read, say) without outlasting the timeout.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null, Func<string>? observed = null,
        [CallerArgumentExpression(nameof(condition))] string expression = "") =>
        PollAsync(condition, timeout, because ?? Describe(expression), observed);

    /// <summary>Checks that <paramref name="invariant"/> holds at every probe for the whole of <paramref name="period"/>,
    /// and fails at the first probe where it does not. For a test whose point is that something does not happen
    /// while a state lasts: the period is what the test watches, not a wait for work.</summary>
    public static async Task ThroughoutAsync(Func<bool> invariant, TimeSpan period, string? because = null, Func<string>? observed = null,
        [CallerArgumentExpression(nameof(invariant))] string expression = "")
    {
        long started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (!invariant())
            {
                Assert.Fail($"{because ?? Describe(expression)} stopped holding after {Seconds(Stopwatch.GetElapsedTime(started))} of {Seconds(period)}"
                    + Observed(observed));
            }
            TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed >= period)
                return;
            await Task.Delay(Min(ProbeInterval, period - elapsed)).ConfigureAwait(false);
        }
    }

    private static async Task PollAsync(Func<Task<bool>> probe, TimeSpan? timeout, string what, Func<string>? observed)
    {
        TimeSpan limit = timeout ?? DefaultTimeout;
        long started = Stopwatch.GetTimestamp();
        while (true)
        {
            Task<bool> attempt = probe();
            bool holds;
            try
            {
                holds = await attempt.WaitAsync(Max(limit - Stopwatch.GetElapsedTime(started), TimeSpan.Zero)).ConfigureAwait(false);
            }
            catch (TimeoutException) when (!attempt.IsCompleted)
            {
                holds = false; // the probe itself ran into the deadline
            }
            if (holds)
                return;
            TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed >= limit)
                Assert.Fail($"timed out after {Seconds(limit)} waiting for {what}" + Observed(observed));
            await Task.Delay(Min(ProbeInterval, limit - elapsed)).ConfigureAwait(false);
        }
    }

    private static string Describe(string expression) =>
        expression.StartsWith("() => ", StringComparison.Ordinal) ? expression["() => ".Length..] : expression;

    private static string Observed(Func<string>? observed) => observed is null ? "" : "; last seen: " + observed();

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
