package io.udit.transport;

/**
 * A time interval [t0, t1] in SiT time (t = 0 noise, t = 1 data), as SiT's {@code check_interval} returns it;
 * a reversed interval (data to noise) has t0 > t1.
 */
public record TimeInterval(double t0, double t1) {}
