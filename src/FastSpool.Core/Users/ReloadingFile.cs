namespace FastSpool.Users;

/// <summary>A parsed file that readers can use from many threads. At most once per check interval a reader stats the
/// file and, when its identity changed, parses it again and swaps in the new snapshot; other readers keep using the
/// previous snapshot meanwhile.</summary>
internal sealed class ReloadingFile<T> where T : class
{
    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromSeconds(1);

    private readonly Func<string?, T> _parse;
    private readonly Action<T>? _loaded;
    private readonly long _checkIntervalMs;
    private readonly Lock _loadLock = new();
    private volatile Snapshot _snapshot;
    private long _nextCheck;

    /// <param name="parse">Called with the file's text, or null when the file does not exist.</param>
    /// <param name="loaded">Told of every snapshot read, the first included (to log its problems).</param>
    /// <exception cref="IOException">The file exists but cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file exists but may not be read.</exception>
    public ReloadingFile(string path, Func<string?, T> parse, TimeSpan checkInterval, Action<T>? loaded = null)
    {
        Path = path;
        _parse = parse;
        _loaded = loaded;
        _checkIntervalMs = (long)checkInterval.TotalMilliseconds;
        _snapshot = Load();
        _nextCheck = Environment.TickCount64 + _checkIntervalMs;
    }

    public string Path { get; }

    public T Value
    {
        get
        {
            if (Environment.TickCount64 >= Volatile.Read(ref _nextCheck))
                ReloadIfChanged();
            return _snapshot.Value;
        }
    }

    /// <summary>Reads the file now, whether or not it looks changed.</summary>
    /// <exception cref="IOException">The file exists but cannot be read; the previous snapshot stays.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read; the previous snapshot stays.</exception>
    public void Refresh()
    {
        using (_loadLock.EnterScope())
        {
            _snapshot = Load();
            Volatile.Write(ref _nextCheck, Environment.TickCount64 + _checkIntervalMs);
        }
    }

    /// <summary>Reads the file again if it changed, without waiting for the check interval: a name not found may
    /// have been added a moment ago. One stat; allocates nothing when the file is unchanged.</summary>
    public void CheckNow() => ReloadIfChanged(force: true);

    private void ReloadIfChanged(bool force = false)
    {
        // One reader checks; the others go on with the current snapshot rather than queue behind the file system.
        if (!_loadLock.TryEnter())
            return;
        try
        {
            long now = Environment.TickCount64;
            if (!force && now < Volatile.Read(ref _nextCheck))
                return;
            Volatile.Write(ref _nextCheck, now + _checkIntervalMs);
            if (FileIdentity.Of(Path) != _snapshot.Identity)
                _snapshot = Load();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Keep serving the last good snapshot; its identity is unchanged, so the next check tries again.
        }
        finally
        {
            _loadLock.Exit();
        }
    }

    private Snapshot Load()
    {
        // Identity first: if the file is replaced while we read it, the next check sees a newer identity than the
        // one recorded and reads it again.
        FileIdentity identity = FileIdentity.Of(Path);
        string? text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            text = null;
        }
        T value = _parse(text);
        _loaded?.Invoke(value);
        return new Snapshot(value, identity);
    }

    private sealed record Snapshot(T Value, FileIdentity Identity);
}
