namespace FastSpool;
internal static class DeliveryAssemblyMarker;
