using System.Globalization;

namespace FastSpool.Posix;

/// <summary>The process's effective capabilities, from <c>/proc/self/status</c> (<c>CapEff</c>). Read when asked:
/// only at start and when a delivery needs to explain a refusal.</summary>
public static class Capabilities
{
    /// <summary>True when the process holds <paramref name="capability"/> now; false when it cannot tell.</summary>
    public static bool Has(Capability capability)
    {
        ulong? effective = ReadEffective();
        return effective is { } mask && (mask & (1UL << (int)capability)) != 0;
    }

    /// <summary>How the capability is named in capabilities(7) and in systemd units.</summary>
    public static string NameOf(Capability capability) => capability switch
    {
        Capability.Chown => "CAP_CHOWN",
        Capability.DacOverride => "CAP_DAC_OVERRIDE",
        Capability.NetBindService => "CAP_NET_BIND_SERVICE",
        _ => "CAP_" + ((int)capability).ToString(CultureInfo.InvariantCulture),
    };

    private static ulong? ReadEffective()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal)
                    && ulong.TryParse(line.AsSpan("CapEff:".Length).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong mask))
                {
                    return mask;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
