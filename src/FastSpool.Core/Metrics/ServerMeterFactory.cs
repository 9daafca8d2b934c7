using System.Diagnostics.Metrics;

namespace FastSpool.Metrics;

/// <summary>Creates the meters of one server, scoped to it: the metrics endpoint listens to this server's instruments
/// only, not to those of another server in the same process (the tests run several). Tools that listen by meter name
/// (<c>dotnet-counters</c>) see every scope. Each owner disposes the meters it created.</summary>
public sealed class ServerMeterFactory : IMeterFactory
{
    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Scope is not null && !ReferenceEquals(options.Scope, this))
            throw new ArgumentException("a meter of this factory has the factory as its scope", nameof(options));
        return new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
    }

    /// <summary>Whether <paramref name="meter"/> was created by this factory.</summary>
    public bool Owns(Meter meter) => ReferenceEquals(meter.Scope, this);

    public void Dispose()
    {
    }
}
